import { describe, expect, it } from 'vitest';
import { explainNoVulkanAdapter, type FileSystemView, gatherVulkanFacts, type VulkanFacts } from './vulkan-diagnosis.js';

const lavapipe = (mesaVersion: string) => ({
  manifest: '/usr/share/vulkan/icd.d/lvp_icd.json',
  library: '/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so',
  driver: 'lavapipe' as const,
  mesaVersion,
});

describe('explainNoVulkanAdapter', () => {
  const searched = ['/usr/share/vulkan/icd.d'];

  it('names the missing Vulkan loader', () => {
    const d = explainNoVulkanAdapter({ loader: undefined, icds: [], searched });
    expect(d.code).toBe('vulkan-loader-missing');
    expect(d.reason).toContain('libvulkan.so.1');
    expect(d.fix).toContain('apt-get install libvulkan1');
    expect(d.fix).toContain('apt-get install -y -t bookworm-backports mesa-vulkan-drivers');
  });

  it('names a missing driver, with the bookworm-backports steps', () => {
    const d = explainNoVulkanAdapter({ loader: '/usr/lib/x86_64-linux-gnu/libvulkan.so.1', icds: [], searched });
    expect(d.code).toBe('vulkan-driver-missing');
    expect(d.fix).toContain('bookworm-backports');
    expect(d.fix).toContain('apt-get update');
    expect(d.fix).toContain('XDG_RUNTIME_DIR');
    expect(d.fix).toMatch(/GPU's Vulkan driver/);
  });

  it("names Mesa 22's lavapipe as too old", () => {
    const d = explainNoVulkanAdapter({ loader: 'libvulkan.so.1', icds: [lavapipe('22.3.6')], searched });
    expect(d.code).toBe('mesa-too-old');
    expect(d.reason).toContain("Mesa 22.3.6's lavapipe");
    expect(d.reason).toContain('Mesa >= 25');
  });

  it('falls back to a generic explanation when the drivers look fine', () => {
    const facts: VulkanFacts = { loader: 'libvulkan.so.1', icds: [lavapipe('25.0.7')], searched };
    const d = explainNoVulkanAdapter(facts);
    expect(d.code).toBe('no-adapter');
    expect(d.reason).toContain('lavapipe (Mesa 25.0.7)');
    expect(d.fix).toContain('vulkaninfo');
  });
});

describe('gatherVulkanFacts', () => {
  it('finds the loader, reads ICD manifests and the Mesa version inside lavapipe', async () => {
    const files: Record<string, string> = {
      '/usr/lib/x86_64-linux-gnu/libvulkan.so.1': '',
      '/usr/share/vulkan/icd.d/lvp_icd.json': JSON.stringify({ ICD: { library_path: '/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so' } }),
      '/usr/share/vulkan/icd.d/nvidia_icd.json': JSON.stringify({ ICD: { library_path: 'libGLX_nvidia.so.0' } }),
      '/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so': '\u0000\u0001Mesa 22.3.6 (LLVM 15.0.6)\u0000',
    };
    const fs: FileSystemView = {
      isFile: (path) => Promise.resolve(path in files),
      list: (dir) =>
        Promise.resolve(
          Object.keys(files)
            .filter((p) => p.startsWith(`${dir}/`))
            .map((p) => p.slice(dir.length + 1)),
        ),
      readText: (path) => (path in files ? Promise.resolve(files[path] ?? '') : Promise.reject(new Error(`ENOENT ${path}`))),
      search: (path, pattern) => Promise.resolve(files[path]?.match(pattern) ?? undefined),
    };
    const facts = await gatherVulkanFacts(fs, { XDG_DATA_DIRS: '/usr/share' }, 'x64');
    expect(facts.loader).toBe('/usr/lib/x86_64-linux-gnu/libvulkan.so.1');
    expect(facts.icds).toEqual([
      { manifest: '/usr/share/vulkan/icd.d/lvp_icd.json', library: '/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so', driver: 'lavapipe', mesaVersion: '22.3.6' },
      { manifest: '/usr/share/vulkan/icd.d/nvidia_icd.json', library: 'libGLX_nvidia.so.0', driver: 'nvidia' },
    ]);
    expect(explainNoVulkanAdapter(facts).code).toBe('mesa-too-old');
  });
});
