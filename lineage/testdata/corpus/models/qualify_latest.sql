select id, customer_id, amount
from {{ source('app', 'orders') }}
qualify row_number() over (partition by customer_id order by created_at desc) = 1
