// The external load generator of bench:default, in its own process: autocannon's library with the
// request body as bytes (its command line reads a body file as UTF-8 text, which mangles binary
// tensor data). Prints autocannon's result as JSON.
// Usage: node benchmarks/autocannon-run.mjs URL BODY_FILE HEADER_LENGTH CONNECTIONS SECONDS
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

const [url, bodyFile, headerLength, connections, seconds] = process.argv.slice(2);
const result = await autocannon({
  url,
  method: 'POST',
  connections: Number(connections),
  duration: Number(seconds),
  headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': headerLength },
  body: readFileSync(bodyFile),
});
process.stdout.write(JSON.stringify(result));
