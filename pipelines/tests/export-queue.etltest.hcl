# Tests of pipelines/export-queue.hcl: run with `etl test pipelines/`.

pipeline = "../export-queue.hcl"

variables = {
  data_dir = test.dir
}

test "only the pending entries are exported" {
  override "source.file.queue" {
    records = [
      { phone_number = "2125550100", lead_id = "L1", status = "pending", attempts = 0, next_attempt = "2026-01-08T16:00:00.000Z", created_at = "2026-01-05T14:05:00.000Z" },
      { phone_number = "2125550101", lead_id = "L2", status = "called", attempts = 1, next_attempt = "2026-01-09T16:00:00.000Z", created_at = "2026-01-05T15:30:00.000Z" },
    ]
  }
  expect "sink.file.csv" {
    records = [{ phone_number = "2125550100", lead_id = "L1", status = "pending", attempts = 0 }]
  }
  assert {
    condition     = filter.where.pending.dropped["not pending"] == 1
    error_message = "The called entry should be dropped as not pending."
  }
}
