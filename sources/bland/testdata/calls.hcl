# The bland_calls source against the fake, for the engine tests.
variable "bland_url" {
  type = string
}
variable "start_date" {
  type = string
}
variable "end_date" {
  type = string
}
variable "limit" {
  type    = number
  default = 10000
}
variable "concurrency" {
  type    = number
  default = 2
}
variable "on_incomplete" {
  type    = string
  default = "fail"
}
variable "backoff" {
  type    = string
  default = "1ms"
}

source "bland_calls" "calls" {
  base_url      = var.bland_url
  api_key       = env("BLAND_API_KEY")
  start_date    = var.start_date
  end_date      = var.end_date
  limit         = var.limit
  concurrency   = var.concurrency
  on_incomplete = var.on_incomplete
  max_retries   = 3
  backoff_base  = var.backoff
  backoff_max   = var.backoff
  timeout       = "5s"
  max_pages     = 10
  query         = { inbound = "false" }
}

sink "collect" "out" {
  input = source.bland_calls.calls
}
