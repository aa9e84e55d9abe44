/** `text` parsed as JSON, or undefined when it is not JSON: for files that may be half-written or foreign. */
export function jsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
