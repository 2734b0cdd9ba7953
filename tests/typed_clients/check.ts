// The flows' one assertion: a broken expectation stops the run with its reason.
export function check(holds: boolean, what: string): void {
  if (!holds) throw new Error(`not as expected: ${what}`);
}
