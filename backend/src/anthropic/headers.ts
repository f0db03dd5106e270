/** The first value of a header as Node hands it over (repeated headers come as an array). */
export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
