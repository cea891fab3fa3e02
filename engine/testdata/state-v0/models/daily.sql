{{ config(materialized='partitioned', partition_by={'column': 'day', 'granularity': 'day'}, start='2024-01-01') }}
select {{ partition_start }} as day, i as v
from range(3) r(i)
where (select count(*) from range({{ var('spin', 1) }})) > 0
