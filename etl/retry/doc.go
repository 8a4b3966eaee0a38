// Package retry is the HTTP helper shared by the API clients of the sources
// (Bland, Convoso, ...): one call to Client.Do sends a request and hands the
// response to the caller, retrying what is worth retrying.
//
// What is retried: 429, every 5xx, network errors, a per-attempt timeout, and
// any error the caller's response handler marks with Retryable (a body cut off
// mid-read, typically). Other 4xx fail at once. Waits use exponential backoff
// with full jitter, or the server's Retry-After on 429 and 503, and return as
// soon as the context is cancelled. An optional rate limiter spaces requests.
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
