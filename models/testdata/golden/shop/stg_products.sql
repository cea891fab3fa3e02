select
    id as product_id,
    name as product_name,
    category,
    round(price_cents / 100.0, 2) as price

from "main"."raw_products"
