/** Types of build-wasm-kernels.mjs, for the test that rebuilds the module. */
export declare const WAT_PATH: string;
export declare const MODULE_PATH: string;
export declare function assemble(watText: string): Promise<Uint8Array>;
export declare function generatedModule(watText: string): Promise<string>;
