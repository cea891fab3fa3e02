

-- One row per order with the product bought. On later runs only orders
-- newer than the ones already in the table are read and merged in.

select
    orders.order_id,
    orders.customer_id,
    orders.order_date,
    products.product_id,
    products.product_name,
    products.category,
    orders.quantity,
    products.price as unit_price,
    orders.quantity * products.price as item_total

from "main"."stg_orders" as orders
join "main"."stg_products" as products
    on orders.product_id = products.product_id


where orders.order_date > (select max(order_date) from "main"."order_items")

