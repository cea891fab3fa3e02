select
    c.id,
    (select max(o.amount) from {{ source('app', 'orders') }} o where o.customer_id = c.id) as biggest_order
from {{ source('app', 'customers') }} c
