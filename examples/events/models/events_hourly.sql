-- One hour of cleaned events, read from the landing folder the app writes to.
-- The partition waits (up to a minute) for the day's files to land.
{{ config(
    materialized='partitioned',
    partition_by={'column': 'event_ts', 'granularity': 'hour'},
    start='2024-01-01',
    checks=[{'files': 'landing/events/dt={{ ds }}/*.ndjson', 'timeout': 60, 'poke_interval': 5}]
) }}

select
    event_id,
    user_id,
    lower(event_type) as event_type,
    coalesce(amount_cents, 0) / 100.0 as amount,
    cast(event_ts as timestamp) as event_ts
from read_json_auto('landing/events/dt={{ ds }}/*.ndjson')
where cast(event_ts as timestamp) >= {{ partition_start }}
  and cast(event_ts as timestamp) < {{ partition_end }}
