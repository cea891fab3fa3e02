-- A 7-day rolling total per event type: the partition for a day reads that day and the
-- six before it (window start_offset -6), so it waits for all seven daily partitions.
{{ config(
    materialized='partitioned',
    partition_by={'column': 'event_day', 'granularity': 'day'},
    start='2024-01-07',
    window={'start_offset': -6, 'end_offset': 0}
) }}

select
    {{ partition_start }} as event_day,
    event_type,
    sum(events) as events_7d,
    sum(revenue) as revenue_7d
from {{ ref('events_daily') }}
where event_day >= {{ window_start }} and event_day < {{ window_end }}
group by all
