import { Readable, pipeline } from 'node:stream';
import { stringify } from 'csv-stringify';
import type { FastifyReply } from 'fastify';

// CSV downloads of admin tables (README, "Requests and errors"): the JSON route's rows, one line
// each, under a header of the JSON field names.

export type CsvValue = string | number | boolean | null;
export type CsvRecord = Readonly<Record<string, CsvValue>>;

/**
 * Streams `rows` as a CSV attachment: pulled one at a time as the client reads, so a long export
 * holds no more than the rows a source has fetched.
 *
 * Formula injection: a spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` (and tab or
 * carriage return) as a formula, and model and user names come from users. csv-stringify's
 * `escape_formulas` puts a `'` before such a text value, so the cell shows the text as written
 * (with the quote) and never runs it. Numbers are written as they are (a negative number stays a number).
 */
export function sendCsv(reply: FastifyReply, file: { filename: string; columns: readonly string[]; rows: Iterable<CsvRecord> | AsyncIterable<CsvRecord> }): FastifyReply {
  const csv = stringify({
    header: true,
    columns: [...file.columns],
    // Excel takes a file without a byte order mark for its local code page and garbles UTF-8 names.
    bom: true,
    escape_formulas: true,
    cast: { boolean: (value) => (value ? 'true' : 'false') },
  });
  // An error after the first byte can only cut the download short: pipeline destroys the CSV stream
  // with it, and Fastify ends the connection and logs it.
  pipeline(Readable.from(file.rows), csv, () => {});
  return reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${file.filename}"`).send(csv);
}
