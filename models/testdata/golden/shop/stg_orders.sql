select
    id as order_id,
    customer_id,
    product_id,
    quantity,
    order_date,
    status

from "main"."raw_orders"
