# Tests of pipelines/backfill.hcl: run with `etl test pipelines/` (or
# `make test`). Each test runs the real pipeline and plugins on the calls
# and Convoso leads it gives; no test touches the network or writes outside
# its temporary directory (test.dir).

pipeline = "../backfill.hcl"

# For every test: three dates, and the queue and stats files in test.dir.
variables = {
  start_date = "2025-12-01"
  end_date   = "2025-12-03"
  data_dir   = test.dir
}

test "the latest call per phone is kept across dates" {
  mock "source.bland_calls.calls" {
    calls = {
      "2025-12-01" = [
        { call_id = "c1", created_at = "2025-12-01T14:00:00Z", to = "+1 (561) 555-0100", batch_id = "b1" },
        { call_id = "c2", created_at = "2025-12-01T15:00:00Z", to = "5615550101", batch_id = "b1" },
      ]
      "2025-12-03" = [
        { call_id = "c3", created_at = "2025-12-03T09:00:00Z", to = "5615550100", batch_id = "b3" },
      ]
    }
  }
  mock "filter.convoso_status.redialable" {
    leads = {
      "5615550100" = [{ lead_id = "L100", status = "NEW", modified_at = "2025-11-01 10:00:00" }]
      "5615550101" = [{ lead_id = "L101", status = "NA", modified_at = "2025-11-02 10:00:00" }]
    }
  }
  # The queue keeps one entry per phone: the last record it receives.
  expect "sink.redial_queue.queue" {
    key = "phone"
    records = [
      { phone = "5615550100", call_id = "c3", batch_id = "b3", lead_id = "L100" },
      { phone = "5615550101", call_id = "c2", batch_id = "b1", lead_id = "L101" },
    ]
  }
  assert {
    condition     = sink.redial_queue.queue.change.summary == "would add 2 entries, 0 already queued: ${test.dir}/redial-queue/redial-queue_2025-12.json (would create it)"
    error_message = "The plan should add both phones to a new queue file."
  }
}

test "a phone with any lead in SALE is excluded even if its latest lead is not" {
  mock "source.bland_calls.calls" {
    calls = {
      "2025-12-02" = [
        { call_id = "c1", created_at = "2025-12-02T14:00:00Z", to = "5615550100" },
        { call_id = "c2", created_at = "2025-12-02T15:00:00Z", to = "5615550101" },
      ]
    }
  }
  mock "filter.convoso_status.redialable" {
    leads = {
      "5615550100" = [
        { lead_id = "L1", status = "SALE", modified_at = "2025-10-01 10:00:00" },
        { lead_id = "L2", status = "NEW", modified_at = "2025-12-01 10:00:00" },
      ]
      "5615550101" = [{ lead_id = "L3", status = "NEW", modified_at = "2025-12-01 10:00:00" }]
    }
  }
  expect "sink.redial_queue.queue" {
    records = [{ phone = "5615550101", lead_id = "L3", lead_status = "NEW" }]
  }
  assert {
    condition     = filter.convoso_status.redialable.dropped["excluded: SALE"] == 1
    error_message = "The phone with a SALE lead should be dropped as excluded: SALE."
  }
}

test "phones on the DNC list are dropped with check_dnc_list" {
  variables = { check_dnc_list = true }
  mock "source.bland_calls.calls" {
    calls = {
      "2025-12-01" = [
        { call_id = "c1", created_at = "2025-12-01T14:00:00Z", to = "5615550100" },
        { call_id = "c2", created_at = "2025-12-01T15:00:00Z", to = "5615550101" },
      ]
    }
  }
  mock "filter.convoso_status.redialable" {
    leads = {
      "5615550100" = [{ lead_id = "L1", status = "NEW", modified_at = "2025-12-01 10:00:00" }]
      "5615550101" = [{ lead_id = "L2", status = "NEW", modified_at = "2025-12-01 10:00:00" }]
    }
    dnc = ["5615550101"]
  }
  expect "sink.redial_queue.queue" {
    records = [{ phone = "5615550100" }]
  }
  assert {
    condition     = filter.convoso_status.redialable.dropped["on dnc list"] == 1
    error_message = "The phone on the DNC list should be dropped."
  }
}

test "the DNC list is not asked without check_dnc_list" {
  mock "source.bland_calls.calls" {
    calls = { "2025-12-01" = [{ call_id = "c1", created_at = "2025-12-01T14:00:00Z", to = "5615550101" }] }
  }
  mock "filter.convoso_status.redialable" {
    leads = { "5615550101" = [{ lead_id = "L2", status = "NEW", modified_at = "2025-12-01 10:00:00" }] }
    dnc   = ["5615550101"]
  }
  expect "sink.redial_queue.queue" {
    records = [{ phone = "5615550101" }]
  }
}

test "an invalid phone is counted and dropped" {
  mock "source.bland_calls.calls" {
    calls = {
      "2025-12-01" = [
        { call_id = "c1", created_at = "2025-12-01T14:00:00Z", to = "5615550100" },
        { call_id = "c2", created_at = "2025-12-01T15:00:00Z", to = "12345" },
      ]
    }
  }
  mock "filter.convoso_status.redialable" {
    leads = { "5615550100" = [{ lead_id = "L1", status = "NEW", modified_at = "2025-12-01 10:00:00" }] }
  }
  expect "sink.redial_queue.queue" {
    records = [{ phone = "5615550100" }]
  }
  assert {
    condition     = source.bland_calls.calls.counts["invalid phones"] == 1 && transform.dedupe_latest.latest_call.dropped["null key"] == 1
    error_message = "The call to 12345 should be counted as an invalid phone, and dropped (null key) before Convoso."
  }
  assert {
    condition     = sink.stats.daily.partitions["2025-12-01"].invalidPhones == 1 && sink.stats.daily.partitions["2025-12-01"].totalCalls == 2
    error_message = "The stats row of 2025-12-01 should count 2 calls, 1 with an invalid phone."
  }
}

test "an existing queue entry is left untouched" {
  apply = true # a real merge, into the queue file copied into test.dir
  files = { "redial-queue/redial-queue_2025-12.json" = "fixtures/queue-existing.json" }
  mock "source.bland_calls.calls" {
    calls = {
      "2025-12-02" = [
        { call_id = "c1", created_at = "2025-12-02T14:00:00Z", to = "5615550100" },
        { call_id = "c2", created_at = "2025-12-02T15:00:00Z", to = "5615550102" },
      ]
    }
  }
  mock "filter.convoso_status.redialable" {
    leads = {
      "5615550100" = [{ lead_id = "NEW-1", status = "NEW", modified_at = "2025-12-01 10:00:00" }]
      "5615550102" = [{ lead_id = "NEW-2", status = "NEW", modified_at = "2025-12-01 10:00:00" }]
    }
  }
  assert {
    condition     = sink.redial_queue.queue.change.summary == "added 1 entries, 1 already queued: ${test.dir}/redial-queue/redial-queue_2025-12.json (2 entries after the merge)"
    error_message = "The merge should add the new phone and count the queued one."
  }
  assert {
    condition     = jsondecode(file("${test.dir}/redial-queue/redial-queue_2025-12.json"))["5615550100"] == jsondecode(file("fixtures/queue-existing.json"))["5615550100"]
    error_message = "The entry already queued should be kept as it was (lead OLD-1, attempts 2)."
  }
  assert {
    condition     = jsondecode(file("${test.dir}/redial-queue/redial-queue_2025-12.json"))["5615550102"].lead_id == "NEW-2"
    error_message = "The new phone should be queued with its latest lead."
  }
}

test "per-date stats for three dates, including a day with no calls" {
  mock "source.bland_calls.calls" {
    calls = {
      "2025-12-01" = [
        { call_id = "c1", created_at = "2025-12-01T14:00:00Z", to = "5615550100" },
        { call_id = "c2", created_at = "2025-12-01T15:00:00Z", to = "5615550101" },
      ]
      # 2025-12-02: no calls
      "2025-12-03" = [
        { call_id = "c3", created_at = "2025-12-03T09:00:00Z", to = "5615550100" },
        { call_id = "c4", created_at = "2025-12-03T10:00:00Z", to = "5615550102" },
        { call_id = "c5", created_at = "2025-12-03T11:00:00Z", to = "5615550102" },
      ]
    }
  }
  mock "filter.convoso_status.redialable" {}
  assert {
    condition = [for d in ["2025-12-01", "2025-12-02", "2025-12-03"] : [
      sink.stats.daily.partitions[d].totalCalls,
      sink.stats.daily.partitions[d].uniquePhonesToday,
      sink.stats.daily.partitions[d].newPhonesToday,
      sink.stats.daily.partitions[d].cumulativeUniquePhones,
    ]] == [[2, 2, 2, 2], [0, 0, 0, 2], [3, 2, 1, 3]]
    error_message = "Per-date stats should be [calls, unique, new, cumulative] = [2,2,2,2], [0,0,0,2], [3,2,1,3]."
  }
  assert {
    condition     = length(sink.stats.daily.records) == 5
    error_message = "The stats sink should receive every call of the three dates."
  }
}

test "excluded_statuses set to another list changes the result" {
  variables = { excluded_statuses = ["CALLBACK"] }
  mock "source.bland_calls.calls" {
    calls = {
      "2025-12-01" = [
        { call_id = "c1", created_at = "2025-12-01T14:00:00Z", to = "5615550100" },
        { call_id = "c2", created_at = "2025-12-01T15:00:00Z", to = "5615550101" },
      ]
    }
  }
  mock "filter.convoso_status.redialable" {
    leads = {
      "5615550100" = [{ lead_id = "L1", status = "SALE", modified_at = "2025-12-01 10:00:00" }]
      "5615550101" = [{ lead_id = "L2", status = "CALLBACK", modified_at = "2025-12-01 10:00:00" }]
    }
  }
  # SALE is no longer excluded: that phone is queued; CALLBACK now is.
  expect "sink.redial_queue.queue" {
    records = [{ phone = "5615550100", lead_status = "SALE" }]
  }
  assert {
    condition     = filter.convoso_status.redialable.dropped == { "excluded: CALLBACK" = 1 }
    error_message = "Only the CALLBACK phone should be excluded."
  }
}

test "fixture calls, from a JSON Lines file, skip the Bland API" {
  override "source.bland_calls.calls" {
    file = "fixtures/calls.jsonl"
    partition "2025-12-03" {
      records = [] # a date without calls
    }
  }
  mock "filter.convoso_status.redialable" {
    leads = {
      "5615550100" = [{ lead_id = "L1", status = "NEW", modified_at = "2025-12-01 10:00:00" }]
      "5615550101" = [{ lead_id = "L2", status = "DNC", modified_at = "2025-12-01 10:00:00" }]
    }
  }
  expect "sink.redial_queue.queue" {
    key      = "phone"
    contains = [{ phone = "5615550100", call_id = "f3", batch_id = "b2" }]
  }
  assert {
    condition     = keys(sink.stats.daily.partitions) == ["2025-12-01", "2025-12-02", "2025-12-03"] && sink.stats.daily.partitions["2025-12-03"].totalCalls == 0
    error_message = "The fixture's three partitions should each make a stats row."
  }
  assert {
    condition     = filter.convoso_status.redialable.dropped["excluded: DNC"] == 1
    error_message = "The phone whose lead is in DNC should be excluded by the default excluded_statuses."
  }
}
