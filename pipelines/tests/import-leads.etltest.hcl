# Tests of pipelines/import-leads.hcl: run with `etl test pipelines/`.

pipeline = "../import-leads.hcl"

variables = {
  data_dir = test.dir
}

test "rows without a phone are skipped, excluded leads dropped, the rest queued" {
  override "source.file.leads" {
    records = [
      { phone = "(212) 555-0100", first_name = "Ann", last_name = "Lee", created_at = "2026-01-05T14:05:00.000000000Z" },
      { phone = " ", first_name = "Ed", last_name = "Blank", created_at = "2026-01-06T10:00:00.000000000Z" },
      { phone = "2125550108", first_name = "Cy", last_name = "Diaz", created_at = "2026-01-06T14:12:00.000000000Z" },
    ]
  }
  mock "filter.convoso_status.redialable" {
    leads = {
      "2125550100" = [{ lead_id = "L1", status = "CALLBK", modified_at = "2025-12-10 09:00:00" }]
      "2125550108" = [{ lead_id = "L2", status = "SALE", modified_at = "2025-12-05 11:00:00" }]
    }
  }
  expect "sink.redial_queue.queue" {
    records = [{ phone = "(212) 555-0100", first_name = "Ann", lead_id = "L1" }]
  }
  assert {
    condition     = filter.where.has_phone.dropped["no phone"] == 1 && filter.convoso_status.redialable.dropped["excluded: SALE"] == 1
    error_message = "The blank phone should be dropped as no phone, the SALE lead as excluded: SALE."
  }
}

test "the leads CSV is read for real: rows without a phone dropped, excluded leads not queued" {
  variables = { leads_csv = "${test.dir}/leads.csv" }
  files     = { "leads.csv" = "fixtures/leads.csv" }
  mock "filter.convoso_status.redialable" {
    leads = {
      "2125550100" = [{ lead_id = "A", status = "NEW", modified_at = "2026-01-01 10:00:00" }]
      "2125550101" = [{ lead_id = "B1", status = "NEW", modified_at = "2026-01-02 10:00:00" },
                      { lead_id = "B2", status = "SALE", modified_at = "2025-06-01 10:00:00" }]
      "2125550102" = [{ lead_id = "C", status = "CALLBACK", modified_at = "2026-01-03 10:00:00" }]
    }
  }
  expect "sink.redial_queue.queue" {
    records = [
      { phone = "(212) 555-0100", first_name = "Ann", lead_id = "A" },
      { phone = "2125550102", first_name = "Cy", lead_id = "C" },
    ]
  }
  assert {
    condition     = filter.where.has_phone.dropped == { "no phone" = 1 } && filter.convoso_status.redialable.dropped == { "excluded: SALE" = 1 }
    error_message = "The row without a phone and the phone with a SALE lead should be dropped."
  }
}

test "an imported phone already queued keeps its entry" {
  apply     = true # a real merge, into the queue file copied into test.dir
  variables = { leads_csv = "${test.dir}/leads.csv" }
  files = {
    "leads.csv"                              = "fixtures/leads.csv"
    "redial-queue/redial-queue_2026-01.json" = "fixtures/queue-2026-01.json"
  }
  mock "filter.convoso_status.redialable" {
    leads = {
      "2125550100" = [{ lead_id = "A", status = "NEW", modified_at = "2026-01-01 10:00:00" }]
      "2125550101" = [{ lead_id = "B", status = "NEW", modified_at = "2026-01-02 10:00:00" }]
    }
  }
  assert {
    condition     = jsondecode(file("${test.dir}/redial-queue/redial-queue_2026-01.json"))["2125550100"].lead_id == "OLD-1"
    error_message = "The phone already queued (lead OLD-1) should keep its entry."
  }
  assert {
    condition     = jsondecode(file("${test.dir}/redial-queue/redial-queue_2026-01.json"))["2125550101"].metadata == { first_name = "Bo", last_name = "Kim", source = "lead_import" }
    error_message = "The new phone should be queued with the lead's name in its metadata."
  }
  assert {
    condition     = sink.redial_queue.queue.change.summary == "added 1 entries, 1 already queued: ${test.dir}/redial-queue/redial-queue_2026-01.json (4 entries after the merge)"
    error_message = "The merge should add one entry and count one already queued."
  }
}

test "excluded_statuses decides which leads are imported" {
  variables = { excluded_statuses = ["CALLBACK"] }
  override "source.file.leads" {
    records = [
      { phone = "2125550101", first_name = "Bo", last_name = "Kim", created_at = "2026-01-05T15:30:00.000000000Z" },
      { phone = "2125550102", first_name = "Cy", last_name = "Diaz", created_at = "2026-01-06T00:00:00.000000000Z" },
    ]
  }
  mock "filter.convoso_status.redialable" {
    leads = {
      "2125550101" = [{ lead_id = "B", status = "SALE", modified_at = "2026-01-02 10:00:00" }]
      "2125550102" = [{ lead_id = "C", status = "CALLBACK", modified_at = "2026-01-03 10:00:00" }]
    }
  }
  expect "sink.redial_queue.queue" {
    records = [{ phone = "2125550101", lead_id = "B" }]
  }
}
