-- Daily totals per event type. A day reads the 24 hours of events_hourly it covers,
-- and waits until all of them are built.
{{ config(
    materialized='partitioned',
    partition_by={'column': 'event_day', 'granularity': 'day'},
    start='2024-01-01',
    lookback=1,
    checks=[{'upstream': 'all'}]
) }}

select
    cast(date_trunc('day', event_ts) as timestamp) as event_day,
    event_type,
    count(*) as events,

    count(distinct user_id) as users,
    sum(amount) as revenue
from {{ ref('events_hourly') }}
where event_ts >= {{ partition_start }} and event_ts < {{ partition_end }}
group by all
