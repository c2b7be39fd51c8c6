/**
 * bpftool's byte layouts: `fprint_hex` (map keys and values, instruction opcodes),
 * `hex_print` (the `prog run` data dump with an ASCII column) and the JSON arrays of
 * `"0x01"` strings or decimal bytes.
 */

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Two lowercase hex digits. */
export function hex2(b: number): string {
  return HEX[b & 0xff] as string;
}

/**
 * bpftool's fprint_hex: bytes separated by `sep`, two spaces after every 8th byte and a
 * newline after every 16th.
 */
export function fprintHex(bytes: Uint8Array, sep = " "): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) {
    if (i === 0) s += hex2(bytes[i] as number);
    else if (i % 16 === 0) s += `\n${hex2(bytes[i] as number)}`;
    else if (i % 8 === 0) s += `  ${hex2(bytes[i] as number)}`;
    else s += sep + hex2(bytes[i] as number);
  }
  return s;
}

/** bpftool's print_hex_data_json: `["0x01","0x00"]`. */
export function hexBytesJson(bytes: Uint8Array): string[] {
  return Array.from(bytes, (b) => `0x${hex2(b)}`);
}

/**
 * bpftool's hex_print for `prog run ... data_out -`: offset, 16 bytes in pairs, then
 * the printable characters.
 *
 * `0000000\t0102 0304 ...   | ........ ........`
 */
export function hexDump(data: Uint8Array): string {
  let s = "";
  for (let i = 0; i < data.length; i += 16) {
    s += `${i.toString(16).padStart(7, "0")}\t`;
    let j = i;
    for (; j < i + 16 && j < data.length; j++) s += hex2(data[j] as number) + (j % 2 ? " " : "");
    for (; j < i + 16; j++) s += `  ${j % 2 ? " " : ""}`;
    s += "| ";
    for (j = i; j < i + 16 && j < data.length; j++) {
      const c = data[j] as number;
      // bpftool reads a signed char, so bytes >= 0x80 print as '.'
      s += (c < 0x20 || c > 0x7e ? "." : String.fromCharCode(c)) + (j === i + 7 ? " " : "");
    }
    s += "\n";
  }
  return s;
}
