// Writes a .wasm as a JavaScript module of one string, for inlining in the script tag:
// `export default "<text>"; export const SHIFT = <n>;`. Byte b is the character
// (b + SHIFT) & 255, or that plus 0x100 where the character would need an escape or is
// not printable ASCII (two bytes in UTF-8 instead of one): src/web/js/first.js
// decodes each character as (code − SHIFT) & 255.
//
// Why not base64: base64 hides the module's byte patterns from gzip (13.6 KB gzip for a
// 21 KB module, 10.9 KB for the bytes themselves). Shifted so that the commonest bytes
// are single-byte characters, the text gzips to within 4% of the raw module: 11.3 KB.
// SHIFT is the one of 256 that gzips best for this module.
//
// Usage: node scripts/inline-wasm.mjs <in.wasm> <out.js>
import { readFileSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

const [input, output] = process.argv.slice(2);
const bytes = readFileSync(input);

function text(shift) {
  let s = "";
  for (const b of bytes) {
    const c = (b + shift) & 255;
    s += String.fromCharCode(c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c ? c : 0x100 + c);
  }
  return JSON.stringify(s);
}

let best = null;
for (let shift = 0; shift < 256; shift++) {
  const literal = text(shift);
  const size = gzipSync(literal, { level: 9 }).length;
  if (!best || size < best.size) best = { shift, literal, size };
}
writeFileSync(output, `export default ${best.literal};\nexport const SHIFT = ${best.shift};\n`);
