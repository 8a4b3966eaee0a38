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

test "the queue file is read for real: only pending entries are exported" {
  files = { "redial-queue/redial-queue_2026-01.json" = "fixtures/queue-2026-01.json" }
  expect "sink.file.csv" {
    records = [
      { phone_number = "2125550100", lead_id = "OLD-1", attempts = 0 },
      { phone_number = "2125550106", lead_id = "L6", attempts = 2 },
    ]
  }
  assert {
    condition     = filter.where.pending.dropped == { "not pending" = 1 }
    error_message = "The entry already called should be left out as not pending."
  }
}

test "the CSV is written when the test applies" {
  apply = true
  files = { "redial-queue/redial-queue_2026-01.json" = "fixtures/queue-2026-01.json" }
  assert {
    condition     = length(csvdecode(file("${test.dir}/exports/pending_2026-01.csv"))) == 2
    error_message = "The CSV should hold the two pending entries."
  }
  assert {
    condition     = [for r in csvdecode(file("${test.dir}/exports/pending_2026-01.csv")) : r.phone_number] == ["2125550100", "2125550106"]
    error_message = "The CSV should list the pending phones in the queue's order."
  }
}
