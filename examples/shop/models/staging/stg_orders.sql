select
    id as order_id,
    customer_id,
    product_id,
    quantity,
    order_date,
    status

from {{ ref('raw_orders') }}
