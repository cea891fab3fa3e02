select c.region, date_trunc('month', o.created_at) as month, sum(o.amount) as revenue
from {{ source('app', 'orders') }} o
join {{ source('app', 'customers') }} c on c.id = o.customer_id
group by all
