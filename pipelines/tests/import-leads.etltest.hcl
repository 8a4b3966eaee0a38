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
