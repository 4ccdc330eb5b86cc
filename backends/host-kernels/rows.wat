;; The host divergence rows' hot loops in WebAssembly SIMD (two float64 lanes, f64x2), beside
;; their JavaScript versions in rows.ts, which rows-simd.ts calls them in place of (the layout of
;; this module's memory and which pass each function replaces are there).
;;
;; Source of rows-wasm.ts: `npm run build:kernels` (scripts/build-wasm-kernels.mjs) assembles it
;; with wabt; host-kernels.test.ts assembles it again and checks the bytes are the committed ones.
;;
;; Every loop takes n entries, n a positive multiple of 4 (the caller pads a row with -FLT_MAX
;; logits, which give exponentials of exactly 0 and so add nothing to any sum), two per iteration.
;; Sums are accumulated per lane in float64 and the two lanes added at the end, so they differ
;; from the JavaScript loops' sequential sums by rounding only; every value is float64 until a
;; gradient entry is rounded to float32, as in rows.ts.
;;
;; exp (inlined where used; wasm has no macros and V8 does not inline small wasm functions into
;; loops): e^x for x ≤ 0 as 2^(k/128) · e^r, k = round(128x/ln 2), |r| ≤ ln 2/256: 2^(k/128) =
;; 2^⌊k/128⌋ · 2^(j/128), j = k mod 128, from the table below with ⌊k/128⌋ added to the exponent
;; bits (so k·2^45 is added to T[j] = bits(2^(j/128)) − j·2^45); r = x − k·(ln 2/128) with
;; ln 2/128 split into a 32-bit head (k·head is exact for |k| < 2^21) and a tail; e^r by its
;; Taylor polynomial of degree 5 (error < r^6/6! < 6e-19). Measured: at most 3.3e-16 from
;; Math.exp, relative, on [−700, 0] (host-kernels.test.ts bounds it by 1e-15). Flushed to 0 below −708, where e^x would be subnormal: an
;; absolute error < 3.3e-308 on terms of sums that are ≥ 1 (a row's largest exponential is e^0).
;;
;; log (inlined): fdlibm's log for a positive normal y: y = 2^k · z, z ∈ [√½, √2), f = z − 1,
;; s = f/(2 + f), log z = f − f²/2 + s·(f²/2 + R(s²)) with fdlibm's degree-7 polynomial R
;; (error < 2^-58.45), plus k·ln 2 in two parts. Measured: at most 2.2e-16 from Math.log,
;; relative to max(1, |log y|), on [1e-300, 1e10] (host-kernels.test.ts bounds it by 4e-16). Its callers clamp ratios below 1e-300 to 1e-300:
;; such a ratio's term is weighted by an exponential below 1e-300 as well.
(module
  (memory (export "memory") 1)

  ;; Bytes 0 … 1023: T[j] = bits(2^(j/128)) − j·2^45 (int64, little-endian), j = 0 … 127.
  (data (i32.const 0)
    "\00\00\00\00\00\00\f0\3f\35\33\fb\a9\3d\f6\ef\3f"
    "\61\80\77\3e\9a\ec\ef\3f\85\7f\6e\e8\15\e3\ef\3f"
    "\74\85\15\d3\b0\d9\ef\3f\de\f6\dd\29\6b\d0\ef\3f"
    "\c8\9b\75\18\45\c7\ef\3f\83\f3\c6\ca\3e\be\ef\3f"
    "\0f\89\f9\6c\58\b5\ef\3f\f7\47\72\2b\92\ac\ef\3f"
    "\a2\d1\d3\32\ec\a3\ef\3f\1b\d3\fe\af\66\9b\ef\3f"
    "\51\5b\12\d0\01\93\ef\3f\cc\31\6c\c0\bd\8a\ef\3f"
    "\e0\2d\a9\ae\9a\82\ef\3f\51\8e\a5\c8\98\7a\ef\3f"
    "\7b\51\7d\3c\b8\72\ef\3f\ea\8d\8c\38\f9\6a\ef\3f"
    "\75\cb\6f\eb\5b\63\ef\3f\d4\5c\04\84\e0\5b\ef\3f"
    "\aa\b9\68\31\87\54\ef\3f\1d\d9\fc\22\50\4d\ef\3f"
    "\d6\8c\62\88\3b\46\ef\3f\96\dc\7d\91\49\3f\ef\3f"
    "\38\62\75\6e\7a\38\ef\3f\3f\a6\b2\4f\ce\31\ef\3f"
    "\dd\7c\e2\65\45\2b\ef\3f\81\63\f5\e1\df\24\ef\3f"
    "\e1\de\1f\f5\9d\1e\ef\3f\90\d9\da\d0\7f\18\ef\3f"
    "\0b\03\e4\a6\85\12\ef\3f\56\2f\3e\a9\af\0c\ef\3f"
    "\15\b7\31\0a\fe\06\ef\3f\31\d8\4c\fc\70\01\ef\3f"
    "\ff\16\64\b2\08\fc\ee\3f\f1\9f\92\5f\c5\f6\ee\3f"
    "\cb\a9\3a\37\a7\f1\ee\3f\66\d8\05\6d\ae\ec\ee\3f"
    "\f7\9f\e5\34\db\e7\ee\3f\e5\a8\13\c3\2d\e3\ee\3f"
    "\22\34\12\4c\a6\de\ee\3f\1c\80\ac\04\45\da\ee\3f"
    "\2a\2e\f7\21\0a\d6\ee\3f\97\a8\50\d9\f5\d1\ee\3f"
    "\2d\89\61\60\08\ce\ee\3f\58\00\1d\ed\41\ca\ee\3f"
    "\d0\3c\c1\b5\a2\c6\ee\3f\de\d3\d7\f0\2a\c3\ee\3f"
    "\27\2a\36\d5\da\bf\ee\3f\0e\dd\fd\99\b2\bc\ee\3f"
    "\a7\2c\9d\76\b2\b9\ee\3f\42\66\cf\a2\da\b6\ee\3f"
    "\82\4f\9d\56\2b\b4\ee\3f\0f\92\5d\ca\a4\b1\ee\3f"
    "\da\27\b5\36\47\af\ee\3f\fd\c7\97\d4\12\ad\ee\3f"
    "\29\54\48\dd\07\ab\ee\3f\b7\46\59\8a\26\a9\ee\3f"
    "\48\21\ad\15\6f\a7\ee\3f\09\dc\76\b9\e1\a5\ee\3f"
    "\84\55\3a\b0\7e\a4\ee\3f\20\c3\cc\34\46\a3\ee\3f"
    "\24\22\55\82\38\a2\ee\3f\73\a9\4c\d4\55\a1\ee\3f"
    "\cd\3b\7f\66\9e\a0\ee\3f\bf\da\0b\75\12\a0\ee\3f"
    "\2f\1a\65\3c\b2\9f\ee\3f\84\94\51\f9\7d\9f\ee\3f"
    "\74\5f\ec\e8\75\9f\ee\3f\74\81\a5\48\9a\9f\ee\3f"
    "\c8\67\42\56\eb\9f\ee\3f\40\5d\de\4f\69\a0\ee\3f"
    "\87\01\eb\73\14\a1\ee\3f\32\c1\30\01\ed\a1\ee\3f"
    "\62\4e\cf\36\f3\a2\ee\3f\12\1a\3e\54\27\a4\ee\3f"
    "\13\ce\4c\99\89\a5\ee\3f\ad\c7\23\46\1a\a7\ee\3f"
    "\ec\92\44\9b\d9\a8\ee\3f\9a\66\8a\d9\c7\aa\ee\3f"
    "\dc\a0\2a\42\e5\ac\ee\3f\8c\44\b5\16\32\af\ee\3f"
    "\36\77\15\99\ae\b1\ee\3f\c6\ff\91\0b\5b\b4\ee\3f"
    "\e5\c5\cd\b0\37\b7\ee\3f\0f\52\c8\cb\44\ba\ee\3f"
    "\50\4e\de\9f\82\bd\ee\3f\ba\07\ca\70\f1\c0\ee\3f"
    "\90\f0\a3\82\91\c4\ee\3f\23\23\e3\19\63\c8\ee\3f"
    "\65\e5\5d\7b\66\cc\ee\3f\33\2d\4a\ec\9b\d0\ee\3f"
    "\5c\25\3e\b2\03\d5\ee\3f\58\b3\30\13\9e\d9\ee\3f"
    "\bf\fd\79\55\6b\de\ee\3f\7a\f3\d3\bf\6b\e3\ee\3f"
    "\ae\d3\5a\99\9f\e8\ee\3f\66\b6\8d\29\07\ee\ee\3f"
    "\fb\15\4f\b8\a2\f3\ee\3f\3a\59\e5\8d\72\f9\ee\3f"
    "\47\5e\fb\f2\76\ff\ee\3f\4a\06\a1\30\b0\05\ef\3f"
    "\d2\c1\4b\90\1e\0c\ef\3f\08\1e\d7\5b\c2\12\ef\3f"
    "\9c\52\85\dd\9b\19\ef\3f\7a\d0\ff\5f\ab\20\ef\3f"
    "\4b\d1\57\2e\f1\27\ef\3f\b5\e7\06\94\6d\2f\ef\3f"
    "\69\90\ef\dc\20\37\ef\3f\fa\c3\5d\55\0b\3f\ef\3f"
    "\7c\89\07\4a\2d\47\ef\3f\f2\89\0d\08\87\4f\ef\3f"
    "\87\a4\fb\dc\18\58\ef\3f\98\83\c9\16\e3\60\ef\3f"
    "\86\32\db\03\e6\69\ef\3f\60\b4\01\f3\21\73\ef\3f"
    "\5f\9b\7b\33\97\7c\ef\3f\29\a1\f5\14\46\86\ef\3f"
    "\f6\3f\8b\e7\2e\90\ef\3f\83\4c\c7\fb\51\9a\ef\3f"
    "\da\90\a4\a2\af\a4\ef\3f\f1\67\8e\2d\48\af\ef\3f"
    "\28\5a\61\ee\1b\ba\ef\3f\97\ba\6b\37\2b\c5\ef\3f"
    "\40\45\6e\5b\76\d0\ef\3f\14\be\9c\ad\fd\db\ef\3f"
    "\d8\90\9e\81\c1\e7\ef\3f\f1\71\8f\2b\c2\f3\ef\3f")

  ;; Bytes 1024 … 1063: the sums a pass returns (float64), read by rows-simd.ts.

  ;; The largest of the n float32 logits of a and of b, into bytes 1024 and 1032 (as float64).
  ;; pmax (a < b ? b : a) is one instruction; max's NaN and signed-zero rules cost several, and
  ;; the logits are finite (checked before a kernel runs).
  (func (export "maxima") (param $pa i32) (param $pb i32) (param $n i32)
    (local $end i32) (local $ma v128) (local $mb v128)
    (local.set $ma (v128.load (local.get $pa)))
    (local.set $mb (v128.load (local.get $pb)))
    (local.set $end (i32.add (local.get $pa) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (local.set $pa (i32.add (local.get $pa) (i32.const 16)))
        (local.set $pb (i32.add (local.get $pb) (i32.const 16)))
        (br_if $done (i32.ge_u (local.get $pa) (local.get $end)))
        (local.set $ma (f32x4.pmax (local.get $ma) (v128.load (local.get $pa))))
        (local.set $mb (f32x4.pmax (local.get $mb) (v128.load (local.get $pb))))
        (br $next)))
    (f64.store (i32.const 1024) (f64.promote_f32 (f32.max
      (f32.max (f32x4.extract_lane 0 (local.get $ma)) (f32x4.extract_lane 1 (local.get $ma)))
      (f32.max (f32x4.extract_lane 2 (local.get $ma)) (f32x4.extract_lane 3 (local.get $ma))))))
    (f64.store (i32.const 1032) (f64.promote_f32 (f32.max
      (f32.max (f32x4.extract_lane 0 (local.get $mb)) (f32x4.extract_lane 1 (local.get $mb)))
      (f32.max (f32x4.extract_lane 2 (local.get $mb)) (f32x4.extract_lane 3 (local.get $mb)))))))

  ;; rows.ts's exps, expsDot and expsCross in one pass: eP = e^((a − maxA)/T), eQ likewise, and
  ;; into bytes 1024 …: ΣeP, ΣeQ, ΣeP·(sa − sb), ΣeQ·(sb − sa), ΣeP·sb (sa = a − maxA,
  ;; sb = b − maxB). The three dot products cost a few multiplies; one loop serves every kind.
  (func (export "exps") (param $pa i32) (param $pb i32) (param $pp i32) (param $pq i32) (param $n i32)
    (param $maxA f64) (param $maxB f64) (param $invT f64)
    (local $end i32) (local $mA v128) (local $mB v128) (local $it v128)
    (local $x v128) (local $sa v128) (local $sb v128) (local $ea v128) (local $eb v128) (local $d v128)
    (local $sumA v128) (local $sumB v128) (local $dotF v128) (local $dotR v128) (local $dotC v128)
    (local $kd v128) (local $ki v128) (local $r v128) (local $r2 v128) (local $t v128)
    (local $invLn2N v128) (local $shifter v128) (local $ln2HiN v128) (local $ln2LoN v128) (local $half v128) (local $c3 v128) (local $c4 v128) (local $c5 v128) (local $expFloor v128)
    (local.set $invLn2N (v128.const f64x2 0x1.71547652b82fep+7 0x1.71547652b82fep+7))
    (local.set $shifter (v128.const f64x2 0x1.8p52 0x1.8p52))
    (local.set $ln2HiN (v128.const f64x2 0x1.62e42feep-8 0x1.62e42feep-8))
    (local.set $ln2LoN (v128.const f64x2 0x1.a39ef35793c76p-40 0x1.a39ef35793c76p-40))
    (local.set $half (v128.const f64x2 0.5 0.5))
    (local.set $c3 (v128.const f64x2 0x1.5555555555555p-3 0x1.5555555555555p-3))
    (local.set $c4 (v128.const f64x2 0x1.5555555555555p-5 0x1.5555555555555p-5))
    (local.set $c5 (v128.const f64x2 0x1.1111111111111p-7 0x1.1111111111111p-7))
    (local.set $expFloor (v128.const f64x2 -708 -708))
    (local.set $mA (f64x2.splat (local.get $maxA)))
    (local.set $mB (f64x2.splat (local.get $maxB)))
    (local.set $it (f64x2.splat (local.get $invT)))
    (local.set $end (i32.add (local.get $pa) (i32.shl (local.get $n) (i32.const 2))))
    (loop $next
      (local.set $sa (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $pa))) (local.get $mA)))
      (local.set $sb (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $pb))) (local.get $mB)))
      (local.set $x (f64x2.mul (local.get $sa) (local.get $it)))
      ;; ea = e^x, inlined (see "exp" at the top)
      (local.set $kd (f64x2.add (f64x2.mul (local.get $x) (local.get $invLn2N)) (local.get $shifter)))
      (local.set $ki (local.get $kd))
      (local.set $kd (f64x2.sub (local.get $kd) (local.get $shifter)))
      (local.set $r (f64x2.sub (f64x2.sub (local.get $x) (f64x2.mul (local.get $kd) (local.get $ln2HiN))) (f64x2.mul (local.get $kd) (local.get $ln2LoN))))
      (local.set $t (v128.load64_zero (i32.shl (i32.and (i32x4.extract_lane 0 (local.get $ki)) (i32.const 127)) (i32.const 3))))
      (local.set $t (v128.load64_lane 1 (i32.shl (i32.and (i32x4.extract_lane 2 (local.get $ki)) (i32.const 127)) (i32.const 3)) (local.get $t)))
      (local.set $t (i64x2.add (local.get $t) (i64x2.shl (local.get $ki) (i32.const 45))))
      (local.set $r2 (f64x2.mul (local.get $r) (local.get $r)))
      (local.set $ea (v128.and
        (f64x2.add (local.get $t) (f64x2.mul (local.get $t) (f64x2.add
          (f64x2.add (local.get $r) (f64x2.mul (local.get $r2) (f64x2.add (local.get $half) (f64x2.mul (local.get $r) (local.get $c3)))))
          (f64x2.mul (f64x2.mul (local.get $r2) (local.get $r2)) (f64x2.add (local.get $c4) (f64x2.mul (local.get $r) (local.get $c5)))))))
        (f64x2.ge (local.get $x) (local.get $expFloor))))
      (local.set $x (f64x2.mul (local.get $sb) (local.get $it)))
      ;; eb = e^x, inlined (see "exp" at the top)
      (local.set $kd (f64x2.add (f64x2.mul (local.get $x) (local.get $invLn2N)) (local.get $shifter)))
      (local.set $ki (local.get $kd))
      (local.set $kd (f64x2.sub (local.get $kd) (local.get $shifter)))
      (local.set $r (f64x2.sub (f64x2.sub (local.get $x) (f64x2.mul (local.get $kd) (local.get $ln2HiN))) (f64x2.mul (local.get $kd) (local.get $ln2LoN))))
      (local.set $t (v128.load64_zero (i32.shl (i32.and (i32x4.extract_lane 0 (local.get $ki)) (i32.const 127)) (i32.const 3))))
      (local.set $t (v128.load64_lane 1 (i32.shl (i32.and (i32x4.extract_lane 2 (local.get $ki)) (i32.const 127)) (i32.const 3)) (local.get $t)))
      (local.set $t (i64x2.add (local.get $t) (i64x2.shl (local.get $ki) (i32.const 45))))
      (local.set $r2 (f64x2.mul (local.get $r) (local.get $r)))
      (local.set $eb (v128.and
        (f64x2.add (local.get $t) (f64x2.mul (local.get $t) (f64x2.add
          (f64x2.add (local.get $r) (f64x2.mul (local.get $r2) (f64x2.add (local.get $half) (f64x2.mul (local.get $r) (local.get $c3)))))
          (f64x2.mul (f64x2.mul (local.get $r2) (local.get $r2)) (f64x2.add (local.get $c4) (f64x2.mul (local.get $r) (local.get $c5)))))))
        (f64x2.ge (local.get $x) (local.get $expFloor))))
      (v128.store (local.get $pp) (local.get $ea))
      (v128.store (local.get $pq) (local.get $eb))
      (local.set $sumA (f64x2.add (local.get $sumA) (local.get $ea)))
      (local.set $sumB (f64x2.add (local.get $sumB) (local.get $eb)))
      (local.set $d (f64x2.sub (local.get $sa) (local.get $sb)))
      (local.set $dotF (f64x2.add (local.get $dotF) (f64x2.mul (local.get $ea) (local.get $d))))
      (local.set $dotR (f64x2.sub (local.get $dotR) (f64x2.mul (local.get $eb) (local.get $d))))
      (local.set $dotC (f64x2.add (local.get $dotC) (f64x2.mul (local.get $ea) (local.get $sb))))
      (local.set $pa (i32.add (local.get $pa) (i32.const 8)))
      (local.set $pb (i32.add (local.get $pb) (i32.const 8)))
      (local.set $pp (i32.add (local.get $pp) (i32.const 16)))
      (local.set $pq (i32.add (local.get $pq) (i32.const 16)))
      (br_if $next (i32.lt_u (local.get $pa) (local.get $end))))
    (f64.store (i32.const 1024) (f64.add (f64x2.extract_lane 0 (local.get $sumA)) (f64x2.extract_lane 1 (local.get $sumA))))
    (f64.store (i32.const 1032) (f64.add (f64x2.extract_lane 0 (local.get $sumB)) (f64x2.extract_lane 1 (local.get $sumB))))
    (f64.store (i32.const 1040) (f64.add (f64x2.extract_lane 0 (local.get $dotF)) (f64x2.extract_lane 1 (local.get $dotF))))
    (f64.store (i32.const 1048) (f64.add (f64x2.extract_lane 0 (local.get $dotR)) (f64x2.extract_lane 1 (local.get $dotR))))
    (f64.store (i32.const 1056) (f64.add (f64x2.extract_lane 0 (local.get $dotC)) (f64x2.extract_lane 1 (local.get $dotC)))))

  ;; rows.ts's gradDifference: g = cq·eQ − cp·eP, rounded to float32.
  (func (export "gradDifference") (param $pg i32) (param $pq i32) (param $pp i32) (param $n i32) (param $cq f64) (param $cp f64)
    (local $end i32) (local $vq v128) (local $vp v128)
    (local.set $vq (f64x2.splat (local.get $cq)))
    (local.set $vp (f64x2.splat (local.get $cp)))
    (local.set $end (i32.add (local.get $pg) (i32.shl (local.get $n) (i32.const 2))))
    (loop $next
      (v128.store64_lane 0 (local.get $pg) (f32x4.demote_f64x2_zero (f64x2.sub (f64x2.mul (local.get $vq) (v128.load (local.get $pq))) (f64x2.mul (local.get $vp) (v128.load (local.get $pp))))))
      (local.set $pg (i32.add (local.get $pg) (i32.const 8)))
      (local.set $pq (i32.add (local.get $pq) (i32.const 16)))
      (local.set $pp (i32.add (local.get $pp) (i32.const 16)))
      (br_if $next (i32.lt_u (local.get $pg) (local.get $end)))))

  ;; rows.ts's gradScaled: g = cq·eQ·(x − shift), rounded to float32.
  (func (export "gradScaled") (param $pg i32) (param $pq i32) (param $px i32) (param $n i32) (param $cq f64) (param $shift f64)
    (local $end i32) (local $vq v128) (local $vs v128)
    (local.set $vq (f64x2.splat (local.get $cq)))
    (local.set $vs (f64x2.splat (local.get $shift)))
    (local.set $end (i32.add (local.get $pg) (i32.shl (local.get $n) (i32.const 2))))
    (loop $next
      (v128.store64_lane 0 (local.get $pg) (f32x4.demote_f64x2_zero (f64x2.mul (f64x2.mul (local.get $vq) (v128.load (local.get $pq))) (f64x2.sub (v128.load (local.get $px)) (local.get $vs)))))
      (local.set $pg (i32.add (local.get $pg) (i32.const 8)))
      (local.set $pq (i32.add (local.get $pq) (i32.const 16)))
      (local.set $px (i32.add (local.get $px) (i32.const 16)))
      (br_if $next (i32.lt_u (local.get $pg) (local.get $end)))))

  ;; rows.ts's gradReverseKL: g = cq·eQ·((b − a + offset)·invT + base), rounded to float32.
  (func (export "gradReverseKL") (param $pg i32) (param $pq i32) (param $pa i32) (param $pb i32) (param $n i32)
    (param $cq f64) (param $offset f64) (param $invT f64) (param $base f64)
    (local $end i32) (local $vq v128) (local $vo v128) (local $it v128) (local $vb v128)
    (local.set $vq (f64x2.splat (local.get $cq)))
    (local.set $vo (f64x2.splat (local.get $offset)))
    (local.set $it (f64x2.splat (local.get $invT)))
    (local.set $vb (f64x2.splat (local.get $base)))
    (local.set $end (i32.add (local.get $pg) (i32.shl (local.get $n) (i32.const 2))))
    (loop $next
      (v128.store64_lane 0 (local.get $pg) (f32x4.demote_f64x2_zero (f64x2.mul (f64x2.mul (local.get $vq) (v128.load (local.get $pq)))
        (f64x2.add (f64x2.mul (f64x2.add (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $pb))) (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $pa)))) (local.get $vo)) (local.get $it)) (local.get $vb)))))
      (local.set $pg (i32.add (local.get $pg) (i32.const 8)))
      (local.set $pq (i32.add (local.get $pq) (i32.const 16)))
      (local.set $pa (i32.add (local.get $pa) (i32.const 8)))
      (local.set $pb (i32.add (local.get $pb) (i32.const 8)))
      (br_if $next (i32.lt_u (local.get $pg) (local.get $end)))))

  ;; rows.ts's tvdSums: with q = eQ·invQ, d = q − eP·invP: Σ|d| and Σ q·sign(d) into bytes
  ;; 1024 and 1032, sign(d) into x. The sign is ±1 from d's sign bit, and 0 where d = 0.
  (func (export "tvdSums") (param $pp i32) (param $pq i32) (param $px i32) (param $n i32) (param $invP f64) (param $invQ f64)
    (local $end i32) (local $vp v128) (local $vq v128) (local $q v128) (local $d v128) (local $s v128)
    (local $abs v128) (local $signed v128)
    (local $signBit v128) (local $one v128) (local $zero v128)
    (local.set $signBit (v128.const i64x2 0x8000000000000000 0x8000000000000000))
    (local.set $one (v128.const f64x2 1 1))
    (local.set $zero (v128.const f64x2 0 0))
    (local.set $vp (f64x2.splat (local.get $invP)))
    (local.set $vq (f64x2.splat (local.get $invQ)))
    (local.set $end (i32.add (local.get $pp) (i32.shl (local.get $n) (i32.const 3))))
    (loop $next
      (local.set $q (f64x2.mul (v128.load (local.get $pq)) (local.get $vq)))
      (local.set $d (f64x2.sub (local.get $q) (f64x2.mul (v128.load (local.get $pp)) (local.get $vp))))
      (local.set $s (v128.and
        (v128.or (v128.and (local.get $d) (local.get $signBit)) (local.get $one))
        (f64x2.ne (local.get $d) (local.get $zero))))
      (local.set $abs (f64x2.add (local.get $abs) (f64x2.abs (local.get $d))))
      (local.set $signed (f64x2.add (local.get $signed) (f64x2.mul (local.get $q) (local.get $s))))
      (v128.store (local.get $px) (local.get $s))
      (local.set $pp (i32.add (local.get $pp) (i32.const 16)))
      (local.set $pq (i32.add (local.get $pq) (i32.const 16)))
      (local.set $px (i32.add (local.get $px) (i32.const 16)))
      (br_if $next (i32.lt_u (local.get $pp) (local.get $end))))
    (f64.store (i32.const 1024) (f64.add (f64x2.extract_lane 0 (local.get $abs)) (f64x2.extract_lane 1 (local.get $abs))))
    (f64.store (i32.const 1032) (f64.add (f64x2.extract_lane 0 (local.get $signed)) (f64x2.extract_lane 1 (local.get $signed)))))

  ;; rows.ts's skewKLSums: ratio = p/m = eP/(α·eP + kq·eQ) (its denominator clamped to ≥ 1e-300);
  ;; Σ eP·log(ratio) and Σ eQ·ratio into bytes 1024 and 1032, ratio into x. log(p/m) is the log
  ;; of the ratio itself, so no softplus is needed and no log of an underflowed mixture is taken.
  (func (export "skewKLSums") (param $pp i32) (param $pq i32) (param $px i32) (param $n i32) (param $alpha f64) (param $kq f64)
    (local $end i32) (local $va v128) (local $vk v128) (local $ep v128) (local $eq v128) (local $ratio v128) (local $y v128) (local $lr v128)
    (local $loss v128) (local $qpm v128)
    (local $ki v128) (local $f v128) (local $s v128) (local $z v128) (local $w v128) (local $hf v128) (local $dk v128)
    (local $half v128) (local $one v128) (local $tiny v128) (local $sqrtHalfBits v128) (local $two v128) (local $ln2Hi v128) (local $lg2 v128) (local $lg4 v128) (local $lg6 v128) (local $lg1 v128) (local $lg3 v128) (local $lg5 v128) (local $lg7 v128) (local $ln2Lo v128)
    (local.set $half (v128.const f64x2 0.5 0.5))
    (local.set $one (v128.const f64x2 1 1))
    (local.set $tiny (v128.const f64x2 1e-300 1e-300))
    (local.set $sqrtHalfBits (v128.const i64x2 0x3fe6a09e667f3bcd 0x3fe6a09e667f3bcd))
    (local.set $two (v128.const f64x2 2 2))
    (local.set $ln2Hi (v128.const f64x2 0x1.62e42feep-1 0x1.62e42feep-1))
    (local.set $lg2 (v128.const f64x2 3.999999999940941908e-01 3.999999999940941908e-01))
    (local.set $lg4 (v128.const f64x2 2.222219843214978396e-01 2.222219843214978396e-01))
    (local.set $lg6 (v128.const f64x2 1.531383769920937332e-01 1.531383769920937332e-01))
    (local.set $lg1 (v128.const f64x2 6.666666666666735130e-01 6.666666666666735130e-01))
    (local.set $lg3 (v128.const f64x2 2.857142874366239149e-01 2.857142874366239149e-01))
    (local.set $lg5 (v128.const f64x2 1.818357216161805012e-01 1.818357216161805012e-01))
    (local.set $lg7 (v128.const f64x2 1.479819860511658591e-01 1.479819860511658591e-01))
    (local.set $ln2Lo (v128.const f64x2 0x1.a39ef35793c76p-33 0x1.a39ef35793c76p-33))
    (local.set $va (f64x2.splat (local.get $alpha)))
    (local.set $vk (f64x2.splat (local.get $kq)))
    (local.set $end (i32.add (local.get $pp) (i32.shl (local.get $n) (i32.const 3))))
    (loop $next
      (local.set $ep (v128.load (local.get $pp)))
      (local.set $eq (v128.load (local.get $pq)))
      (local.set $ratio (f64x2.div (local.get $ep) (f64x2.pmax (f64x2.add (f64x2.mul (local.get $va) (local.get $ep)) (f64x2.mul (local.get $vk) (local.get $eq))) (local.get $tiny))))
      (local.set $y (f64x2.pmax (local.get $ratio) (local.get $tiny)))
      ;; lr = log y, inlined (see "log" at the top)
      (local.set $ki (i64x2.shr_s (i64x2.sub (local.get $y) (local.get $sqrtHalfBits)) (i32.const 52)))
      (local.set $f (f64x2.sub (i64x2.sub (local.get $y) (i64x2.shl (local.get $ki) (i32.const 52))) (local.get $one)))
      (local.set $s (f64x2.div (local.get $f) (f64x2.add (local.get $f) (local.get $two))))
      (local.set $z (f64x2.mul (local.get $s) (local.get $s)))
      (local.set $w (f64x2.mul (local.get $z) (local.get $z)))
      (local.set $hf (f64x2.mul (local.get $half) (f64x2.mul (local.get $f) (local.get $f))))
      (local.set $dk (f64x2.convert_low_i32x4_s (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $ki) (local.get $ki))))
      (local.set $lr (f64x2.sub (f64x2.mul (local.get $dk) (local.get $ln2Hi)) (f64x2.sub (f64x2.sub (local.get $hf) (f64x2.add
        (f64x2.mul (local.get $s) (f64x2.add (local.get $hf) (f64x2.add
          (f64x2.mul (local.get $w) (f64x2.add (local.get $lg2) (f64x2.mul (local.get $w) (f64x2.add (local.get $lg4) (f64x2.mul (local.get $w) (local.get $lg6))))))
          (f64x2.mul (local.get $z) (f64x2.add (local.get $lg1) (f64x2.mul (local.get $w) (f64x2.add (local.get $lg3) (f64x2.mul (local.get $w) (f64x2.add (local.get $lg5) (f64x2.mul (local.get $w) (local.get $lg7)))))))))))
        (f64x2.mul (local.get $dk) (local.get $ln2Lo)))) (local.get $f))))
      (local.set $loss (f64x2.add (local.get $loss) (f64x2.mul (local.get $ep) (local.get $lr))))
      (local.set $qpm (f64x2.add (local.get $qpm) (f64x2.mul (local.get $eq) (local.get $ratio))))
      (v128.store (local.get $px) (local.get $ratio))
      (local.set $pp (i32.add (local.get $pp) (i32.const 16)))
      (local.set $pq (i32.add (local.get $pq) (i32.const 16)))
      (local.set $px (i32.add (local.get $px) (i32.const 16)))
      (br_if $next (i32.lt_u (local.get $pp) (local.get $end))))
    (f64.store (i32.const 1024) (f64.add (f64x2.extract_lane 0 (local.get $loss)) (f64x2.extract_lane 1 (local.get $loss))))
    (f64.store (i32.const 1032) (f64.add (f64x2.extract_lane 0 (local.get $qpm)) (f64x2.extract_lane 1 (local.get $qpm)))))

  ;; rows.ts's skewReverseKLSums: ratio = q/m = eQ/(α·eQ + kp·eP) (denominator ≥ 1e-300);
  ;; Σ eQ·log(ratio) and Σ eQ·ratio into bytes 1024 and 1032, log(ratio) − α·ratio into x.
  (func (export "skewReverseKLSums") (param $pp i32) (param $pq i32) (param $px i32) (param $n i32) (param $alpha f64) (param $kp f64)
    (local $end i32) (local $va v128) (local $vk v128) (local $ep v128) (local $eq v128) (local $ratio v128) (local $y v128) (local $lr v128)
    (local $loss v128) (local $qqm v128)
    (local $ki v128) (local $f v128) (local $s v128) (local $z v128) (local $w v128) (local $hf v128) (local $dk v128)
    (local $half v128) (local $one v128) (local $tiny v128) (local $sqrtHalfBits v128) (local $two v128) (local $ln2Hi v128) (local $lg2 v128) (local $lg4 v128) (local $lg6 v128) (local $lg1 v128) (local $lg3 v128) (local $lg5 v128) (local $lg7 v128) (local $ln2Lo v128)
    (local.set $half (v128.const f64x2 0.5 0.5))
    (local.set $one (v128.const f64x2 1 1))
    (local.set $tiny (v128.const f64x2 1e-300 1e-300))
    (local.set $sqrtHalfBits (v128.const i64x2 0x3fe6a09e667f3bcd 0x3fe6a09e667f3bcd))
    (local.set $two (v128.const f64x2 2 2))
    (local.set $ln2Hi (v128.const f64x2 0x1.62e42feep-1 0x1.62e42feep-1))
    (local.set $lg2 (v128.const f64x2 3.999999999940941908e-01 3.999999999940941908e-01))
    (local.set $lg4 (v128.const f64x2 2.222219843214978396e-01 2.222219843214978396e-01))
    (local.set $lg6 (v128.const f64x2 1.531383769920937332e-01 1.531383769920937332e-01))
    (local.set $lg1 (v128.const f64x2 6.666666666666735130e-01 6.666666666666735130e-01))
    (local.set $lg3 (v128.const f64x2 2.857142874366239149e-01 2.857142874366239149e-01))
    (local.set $lg5 (v128.const f64x2 1.818357216161805012e-01 1.818357216161805012e-01))
    (local.set $lg7 (v128.const f64x2 1.479819860511658591e-01 1.479819860511658591e-01))
    (local.set $ln2Lo (v128.const f64x2 0x1.a39ef35793c76p-33 0x1.a39ef35793c76p-33))
    (local.set $va (f64x2.splat (local.get $alpha)))
    (local.set $vk (f64x2.splat (local.get $kp)))
    (local.set $end (i32.add (local.get $pp) (i32.shl (local.get $n) (i32.const 3))))
    (loop $next
      (local.set $ep (v128.load (local.get $pp)))
      (local.set $eq (v128.load (local.get $pq)))
      (local.set $ratio (f64x2.div (local.get $eq) (f64x2.pmax (f64x2.add (f64x2.mul (local.get $va) (local.get $eq)) (f64x2.mul (local.get $vk) (local.get $ep))) (local.get $tiny))))
      (local.set $y (f64x2.pmax (local.get $ratio) (local.get $tiny)))
      ;; lr = log y, inlined (see "log" at the top)
      (local.set $ki (i64x2.shr_s (i64x2.sub (local.get $y) (local.get $sqrtHalfBits)) (i32.const 52)))
      (local.set $f (f64x2.sub (i64x2.sub (local.get $y) (i64x2.shl (local.get $ki) (i32.const 52))) (local.get $one)))
      (local.set $s (f64x2.div (local.get $f) (f64x2.add (local.get $f) (local.get $two))))
      (local.set $z (f64x2.mul (local.get $s) (local.get $s)))
      (local.set $w (f64x2.mul (local.get $z) (local.get $z)))
      (local.set $hf (f64x2.mul (local.get $half) (f64x2.mul (local.get $f) (local.get $f))))
      (local.set $dk (f64x2.convert_low_i32x4_s (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $ki) (local.get $ki))))
      (local.set $lr (f64x2.sub (f64x2.mul (local.get $dk) (local.get $ln2Hi)) (f64x2.sub (f64x2.sub (local.get $hf) (f64x2.add
        (f64x2.mul (local.get $s) (f64x2.add (local.get $hf) (f64x2.add
          (f64x2.mul (local.get $w) (f64x2.add (local.get $lg2) (f64x2.mul (local.get $w) (f64x2.add (local.get $lg4) (f64x2.mul (local.get $w) (local.get $lg6))))))
          (f64x2.mul (local.get $z) (f64x2.add (local.get $lg1) (f64x2.mul (local.get $w) (f64x2.add (local.get $lg3) (f64x2.mul (local.get $w) (f64x2.add (local.get $lg5) (f64x2.mul (local.get $w) (local.get $lg7)))))))))))
        (f64x2.mul (local.get $dk) (local.get $ln2Lo)))) (local.get $f))))
      (local.set $loss (f64x2.add (local.get $loss) (f64x2.mul (local.get $eq) (local.get $lr))))
      (local.set $qqm (f64x2.add (local.get $qqm) (f64x2.mul (local.get $eq) (local.get $ratio))))
      (v128.store (local.get $px) (f64x2.sub (local.get $lr) (f64x2.mul (local.get $va) (local.get $ratio))))
      (local.set $pp (i32.add (local.get $pp) (i32.const 16)))
      (local.set $pq (i32.add (local.get $pq) (i32.const 16)))
      (local.set $px (i32.add (local.get $px) (i32.const 16)))
      (br_if $next (i32.lt_u (local.get $pp) (local.get $end))))
    (f64.store (i32.const 1024) (f64.add (f64x2.extract_lane 0 (local.get $loss)) (f64x2.extract_lane 1 (local.get $loss))))
    (f64.store (i32.const 1032) (f64.add (f64x2.extract_lane 0 (local.get $qqm)) (f64x2.extract_lane 1 (local.get $qqm)))))

  ;; rows.ts's jsdSums, m = β·p + (1 − β)·q. With κ = invQ/invP, p/m = eP/m1 and q/m = κ·eQ/m1
  ;; for m1 = β·eP + (1 − β)·κ·eQ, and t = log q − log p = (sb − sa)·invT + shift from the logits
  ;; (shift = (maxA − maxB)·invT + log ΣA − log ΣB). One log per entry, of the larger of the two
  ;; ratios (in [1, 1/min(β, 1 − β)], so never of an underflowed value): L = log(max(p, q)/m),
  ;; and the other is L ∓ t. Σ eP·log(p/m) and Σ eQ·log(q/m) into bytes 1024 and 1032, log(q/m)
  ;; into x.
  (func (export "jsdSums") (param $pa i32) (param $pb i32) (param $pp i32) (param $pq i32) (param $px i32) (param $n i32)
    (param $beta f64) (param $kappa f64) (param $invT f64) (param $shift f64)
    (local $end i32) (local $vb v128) (local $vc v128) (local $vk v128) (local $it v128) (local $vs v128)
    (local $ep v128) (local $eq v128) (local $kq v128) (local $big v128) (local $pBig v128) (local $y v128) (local $lr v128) (local $dt v128)
    (local $klP v128) (local $klQ v128)
    (local $ki v128) (local $f v128) (local $s v128) (local $z v128) (local $w v128) (local $hf v128) (local $dk v128)
    (local $half v128) (local $one v128) (local $tiny v128) (local $sqrtHalfBits v128) (local $two v128) (local $ln2Hi v128) (local $lg2 v128) (local $lg4 v128) (local $lg6 v128) (local $lg1 v128) (local $lg3 v128) (local $lg5 v128) (local $lg7 v128) (local $ln2Lo v128)
    (local.set $half (v128.const f64x2 0.5 0.5))
    (local.set $one (v128.const f64x2 1 1))
    (local.set $tiny (v128.const f64x2 1e-300 1e-300))
    (local.set $sqrtHalfBits (v128.const i64x2 0x3fe6a09e667f3bcd 0x3fe6a09e667f3bcd))
    (local.set $two (v128.const f64x2 2 2))
    (local.set $ln2Hi (v128.const f64x2 0x1.62e42feep-1 0x1.62e42feep-1))
    (local.set $lg2 (v128.const f64x2 3.999999999940941908e-01 3.999999999940941908e-01))
    (local.set $lg4 (v128.const f64x2 2.222219843214978396e-01 2.222219843214978396e-01))
    (local.set $lg6 (v128.const f64x2 1.531383769920937332e-01 1.531383769920937332e-01))
    (local.set $lg1 (v128.const f64x2 6.666666666666735130e-01 6.666666666666735130e-01))
    (local.set $lg3 (v128.const f64x2 2.857142874366239149e-01 2.857142874366239149e-01))
    (local.set $lg5 (v128.const f64x2 1.818357216161805012e-01 1.818357216161805012e-01))
    (local.set $lg7 (v128.const f64x2 1.479819860511658591e-01 1.479819860511658591e-01))
    (local.set $ln2Lo (v128.const f64x2 0x1.a39ef35793c76p-33 0x1.a39ef35793c76p-33))
    (local.set $vb (f64x2.splat (local.get $beta)))
    (local.set $vc (f64x2.splat (f64.sub (f64.const 1) (local.get $beta))))
    (local.set $vk (f64x2.splat (local.get $kappa)))
    (local.set $it (f64x2.splat (local.get $invT)))
    (local.set $vs (f64x2.splat (local.get $shift)))
    (local.set $end (i32.add (local.get $pp) (i32.shl (local.get $n) (i32.const 3))))
    (loop $next
      (local.set $ep (v128.load (local.get $pp)))
      (local.set $eq (v128.load (local.get $pq)))
      (local.set $kq (f64x2.mul (local.get $vk) (local.get $eq)))
      (local.set $pBig (f64x2.ge (local.get $ep) (local.get $kq)))
      (local.set $big (v128.bitselect (local.get $ep) (local.get $kq) (local.get $pBig)))
      ;; y ≥ 1 but for rounding; the clamps keep entries whose exponentials are both 0 finite (L = 0).
      (local.set $y (f64x2.pmax (f64x2.div (local.get $big) (f64x2.pmax (f64x2.add (f64x2.mul (local.get $vb) (local.get $ep)) (f64x2.mul (local.get $vc) (local.get $kq))) (local.get $tiny))) (local.get $one)))
      ;; lr = log y, inlined (see "log" at the top)
      (local.set $ki (i64x2.shr_s (i64x2.sub (local.get $y) (local.get $sqrtHalfBits)) (i32.const 52)))
      (local.set $f (f64x2.sub (i64x2.sub (local.get $y) (i64x2.shl (local.get $ki) (i32.const 52))) (local.get $one)))
      (local.set $s (f64x2.div (local.get $f) (f64x2.add (local.get $f) (local.get $two))))
      (local.set $z (f64x2.mul (local.get $s) (local.get $s)))
      (local.set $w (f64x2.mul (local.get $z) (local.get $z)))
      (local.set $hf (f64x2.mul (local.get $half) (f64x2.mul (local.get $f) (local.get $f))))
      (local.set $dk (f64x2.convert_low_i32x4_s (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $ki) (local.get $ki))))
      (local.set $lr (f64x2.sub (f64x2.mul (local.get $dk) (local.get $ln2Hi)) (f64x2.sub (f64x2.sub (local.get $hf) (f64x2.add
        (f64x2.mul (local.get $s) (f64x2.add (local.get $hf) (f64x2.add
          (f64x2.mul (local.get $w) (f64x2.add (local.get $lg2) (f64x2.mul (local.get $w) (f64x2.add (local.get $lg4) (f64x2.mul (local.get $w) (local.get $lg6))))))
          (f64x2.mul (local.get $z) (f64x2.add (local.get $lg1) (f64x2.mul (local.get $w) (f64x2.add (local.get $lg3) (f64x2.mul (local.get $w) (f64x2.add (local.get $lg5) (f64x2.mul (local.get $w) (local.get $lg7)))))))))))
        (f64x2.mul (local.get $dk) (local.get $ln2Lo)))) (local.get $f))))
      (local.set $dt (f64x2.add (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $pb))) (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $pa)))) (local.get $it)) (local.get $vs)))
      ;; log(p/m) = L − t where q is the larger, log(q/m) = L + t where p is.
      (local.set $klP (f64x2.add (local.get $klP) (f64x2.mul (local.get $ep) (f64x2.sub (local.get $lr) (v128.andnot (local.get $dt) (local.get $pBig))))))
      (local.set $lr (f64x2.add (local.get $lr) (v128.and (local.get $dt) (local.get $pBig))))
      (local.set $klQ (f64x2.add (local.get $klQ) (f64x2.mul (local.get $eq) (local.get $lr))))
      (v128.store (local.get $px) (local.get $lr))
      (local.set $pp (i32.add (local.get $pp) (i32.const 16)))
      (local.set $pq (i32.add (local.get $pq) (i32.const 16)))
      (local.set $px (i32.add (local.get $px) (i32.const 16)))
      (local.set $pa (i32.add (local.get $pa) (i32.const 8)))
      (local.set $pb (i32.add (local.get $pb) (i32.const 8)))
      (br_if $next (i32.lt_u (local.get $pp) (local.get $end))))
    (f64.store (i32.const 1024) (f64.add (f64x2.extract_lane 0 (local.get $klP)) (f64x2.extract_lane 1 (local.get $klP))))
    (f64.store (i32.const 1032) (f64.add (f64x2.extract_lane 0 (local.get $klQ)) (f64x2.extract_lane 1 (local.get $klQ)))))

  ;; For the accuracy tests: x ← e^x and x ← log x over n float64 (n even) in place.
  (func (export "expInPlace") (param $pp i32) (param $n i32)
    (local $end i32) (local $x v128) (local $e v128)
    (local $kd v128) (local $ki v128) (local $r v128) (local $r2 v128) (local $t v128)
    (local $invLn2N v128) (local $shifter v128) (local $ln2HiN v128) (local $ln2LoN v128) (local $half v128) (local $c3 v128) (local $c4 v128) (local $c5 v128) (local $expFloor v128)
    (local.set $invLn2N (v128.const f64x2 0x1.71547652b82fep+7 0x1.71547652b82fep+7))
    (local.set $shifter (v128.const f64x2 0x1.8p52 0x1.8p52))
    (local.set $ln2HiN (v128.const f64x2 0x1.62e42feep-8 0x1.62e42feep-8))
    (local.set $ln2LoN (v128.const f64x2 0x1.a39ef35793c76p-40 0x1.a39ef35793c76p-40))
    (local.set $half (v128.const f64x2 0.5 0.5))
    (local.set $c3 (v128.const f64x2 0x1.5555555555555p-3 0x1.5555555555555p-3))
    (local.set $c4 (v128.const f64x2 0x1.5555555555555p-5 0x1.5555555555555p-5))
    (local.set $c5 (v128.const f64x2 0x1.1111111111111p-7 0x1.1111111111111p-7))
    (local.set $expFloor (v128.const f64x2 -708 -708))
    (local.set $end (i32.add (local.get $pp) (i32.shl (local.get $n) (i32.const 3))))
    (loop $next
      (local.set $x (v128.load (local.get $pp)))
      ;; e = e^x, inlined (see "exp" at the top)
      (local.set $kd (f64x2.add (f64x2.mul (local.get $x) (local.get $invLn2N)) (local.get $shifter)))
      (local.set $ki (local.get $kd))
      (local.set $kd (f64x2.sub (local.get $kd) (local.get $shifter)))
      (local.set $r (f64x2.sub (f64x2.sub (local.get $x) (f64x2.mul (local.get $kd) (local.get $ln2HiN))) (f64x2.mul (local.get $kd) (local.get $ln2LoN))))
      (local.set $t (v128.load64_zero (i32.shl (i32.and (i32x4.extract_lane 0 (local.get $ki)) (i32.const 127)) (i32.const 3))))
      (local.set $t (v128.load64_lane 1 (i32.shl (i32.and (i32x4.extract_lane 2 (local.get $ki)) (i32.const 127)) (i32.const 3)) (local.get $t)))
      (local.set $t (i64x2.add (local.get $t) (i64x2.shl (local.get $ki) (i32.const 45))))
      (local.set $r2 (f64x2.mul (local.get $r) (local.get $r)))
      (local.set $e (v128.and
        (f64x2.add (local.get $t) (f64x2.mul (local.get $t) (f64x2.add
          (f64x2.add (local.get $r) (f64x2.mul (local.get $r2) (f64x2.add (local.get $half) (f64x2.mul (local.get $r) (local.get $c3)))))
          (f64x2.mul (f64x2.mul (local.get $r2) (local.get $r2)) (f64x2.add (local.get $c4) (f64x2.mul (local.get $r) (local.get $c5)))))))
        (f64x2.ge (local.get $x) (local.get $expFloor))))
      (v128.store (local.get $pp) (local.get $e))
      (local.set $pp (i32.add (local.get $pp) (i32.const 16)))
      (br_if $next (i32.lt_u (local.get $pp) (local.get $end)))))

  (func (export "logInPlace") (param $pp i32) (param $n i32)
    (local $end i32) (local $y v128) (local $l v128)
    (local $ki v128) (local $f v128) (local $s v128) (local $z v128) (local $w v128) (local $hf v128) (local $dk v128)
    (local $half v128) (local $one v128) (local $sqrtHalfBits v128) (local $two v128) (local $ln2Hi v128) (local $lg2 v128) (local $lg4 v128) (local $lg6 v128) (local $lg1 v128) (local $lg3 v128) (local $lg5 v128) (local $lg7 v128) (local $ln2Lo v128)
    (local.set $half (v128.const f64x2 0.5 0.5))
    (local.set $one (v128.const f64x2 1 1))
    (local.set $sqrtHalfBits (v128.const i64x2 0x3fe6a09e667f3bcd 0x3fe6a09e667f3bcd))
    (local.set $two (v128.const f64x2 2 2))
    (local.set $ln2Hi (v128.const f64x2 0x1.62e42feep-1 0x1.62e42feep-1))
    (local.set $lg2 (v128.const f64x2 3.999999999940941908e-01 3.999999999940941908e-01))
    (local.set $lg4 (v128.const f64x2 2.222219843214978396e-01 2.222219843214978396e-01))
    (local.set $lg6 (v128.const f64x2 1.531383769920937332e-01 1.531383769920937332e-01))
    (local.set $lg1 (v128.const f64x2 6.666666666666735130e-01 6.666666666666735130e-01))
    (local.set $lg3 (v128.const f64x2 2.857142874366239149e-01 2.857142874366239149e-01))
    (local.set $lg5 (v128.const f64x2 1.818357216161805012e-01 1.818357216161805012e-01))
    (local.set $lg7 (v128.const f64x2 1.479819860511658591e-01 1.479819860511658591e-01))
    (local.set $ln2Lo (v128.const f64x2 0x1.a39ef35793c76p-33 0x1.a39ef35793c76p-33))
    (local.set $end (i32.add (local.get $pp) (i32.shl (local.get $n) (i32.const 3))))
    (loop $next
      (local.set $y (v128.load (local.get $pp)))
      ;; l = log y, inlined (see "log" at the top)
      (local.set $ki (i64x2.shr_s (i64x2.sub (local.get $y) (local.get $sqrtHalfBits)) (i32.const 52)))
      (local.set $f (f64x2.sub (i64x2.sub (local.get $y) (i64x2.shl (local.get $ki) (i32.const 52))) (local.get $one)))
      (local.set $s (f64x2.div (local.get $f) (f64x2.add (local.get $f) (local.get $two))))
      (local.set $z (f64x2.mul (local.get $s) (local.get $s)))
      (local.set $w (f64x2.mul (local.get $z) (local.get $z)))
      (local.set $hf (f64x2.mul (local.get $half) (f64x2.mul (local.get $f) (local.get $f))))
      (local.set $dk (f64x2.convert_low_i32x4_s (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $ki) (local.get $ki))))
      (local.set $l (f64x2.sub (f64x2.mul (local.get $dk) (local.get $ln2Hi)) (f64x2.sub (f64x2.sub (local.get $hf) (f64x2.add
        (f64x2.mul (local.get $s) (f64x2.add (local.get $hf) (f64x2.add
          (f64x2.mul (local.get $w) (f64x2.add (local.get $lg2) (f64x2.mul (local.get $w) (f64x2.add (local.get $lg4) (f64x2.mul (local.get $w) (local.get $lg6))))))
          (f64x2.mul (local.get $z) (f64x2.add (local.get $lg1) (f64x2.mul (local.get $w) (f64x2.add (local.get $lg3) (f64x2.mul (local.get $w) (f64x2.add (local.get $lg5) (f64x2.mul (local.get $w) (local.get $lg7)))))))))))
        (f64x2.mul (local.get $dk) (local.get $ln2Lo)))) (local.get $f))))
      (v128.store (local.get $pp) (local.get $l))
      (local.set $pp (i32.add (local.get $pp) (i32.const 16)))
      (br_if $next (i32.lt_u (local.get $pp) (local.get $end)))))
)
