select id, name as label from {{ source('app', 'customers') }}
union all
select id, status from {{ source('app', 'orders') }}
