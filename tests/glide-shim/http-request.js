'use strict';
// One HTTP request for glide.js's RESTMessageV2.execute(), in a child process so that the rule waits for it:
// reads {method, url, headers, body, timeoutMs} on stdin, writes {status, body} or {error} on stdout.

const chunks = [];
process.stdin.on('data', (chunk) => chunks.push(chunk));
process.stdin.on('end', async () => {
  const request = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  let answer;
  try {
    const response = await fetch(request.url, {
      method: request.method.toUpperCase(),
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.timeout(request.timeoutMs),
    });
    answer = { status: response.status, body: await response.text() };
  } catch (e) {
    answer = { error: String(e && e.cause ? e.cause : e) };
  }
  process.stdout.write(JSON.stringify(answer));
});
