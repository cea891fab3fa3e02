select
    id,
    sum(amount) over (partition by customer_id order by created_at) as running_total,
    row_number() over (partition by customer_id order by created_at desc) as recency
from {{ source('app', 'orders') }}
