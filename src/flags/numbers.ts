/**
 * Parsers of numeric command-line values, shared by the `goten` command and the benchmarks (bench/ sits
 * below src/cli, so the parsers live below both). Each returns a function commander can attach to a flag;
 * the error names the flag and the bound, so a bad value is reported before anything runs.
 */

/** An integer ≥ min (default 1) for flag `name`, or throws naming the flag. */
export function intOption(name: string, min = 1): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isSafeInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}, got '${v}'`);
    return n;
  };
}

/** A finite number ≥ min (default 0) for flag `name`, or throws naming the flag. */
/** A TCP port number, 0 (any free port) to 65535. */
export function portOption(name: string): (v: string) => number {
  const int = intOption(name, 0);
  return (v) => {
    const n = int(v);
    if (n > 65535) throw new Error(`${name} must be a TCP port, 0 to 65535, got '${v}'`);
    return n;
  };
}

export function numOption(name: string, min = 0): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < min) throw new Error(`${name} must be a number ≥ ${min}, got '${v}'`);
    return n;
  };
}
