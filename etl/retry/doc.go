// Package retry is the HTTP helper shared by the API clients of the sources
// (Bland, Convoso, ...): one call to Client.Do sends a request and hands the
// response to the caller, retrying what is worth retrying.
//
// What is retried: 429, every 5xx, network errors, a per-attempt timeout, and
// any error the caller's response handler marks with Retryable (a body cut off
// mid-read, typically). Other 4xx fail at once. Waits return as soon as the
// context is cancelled.
//
// The policy, shared by every API block (bland_calls, convoso_status):
//   - the first retry of a 5xx, a network error or a cut-off answer comes
//     soon, after a random wait of at most 100 ms (FirstRetry): most such
//     failures are one-offs, and jitter keeps the retries of many requests
//     from arriving together; later retries back off exponentially with full
//     jitter from backoff_base up to backoff_max;
//   - a Retry-After on 429 or 503 is honoured by the request that got it, and
//     by no other: the rest go on;
//   - repeated 429s (see Throttle) lower the client's request rate below the
//     rate the API accepts, and the rate recovers once they stop, so that the
//     requests do not all keep hitting the limit;
//   - a request waiting to retry holds no place among those in flight
//     (Gate), and an optional fixed rate limit (requests_per_second,
//     requests_per_minute) spaces every attempt.
//
// Errors never carry secrets: they name the method and the URL path only,
// never the query string (Convoso puts its token there) nor any header, and
// the strings listed in Client.Secrets are scrubbed from the API's messages.
//
// With Client.Logger set (the plugins pass their Env.Logger, which
// --log-level configures), every attempt gets a debug line: method, path,
// status, duration, attempt number and body bytes read; the query only
// when Client.LogQuery says it holds no secret.
package retry
