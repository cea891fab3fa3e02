with paid as (
    select id, customer_id, amount from {{ source('app', 'orders') }} where status = 'paid'
),
per_customer as (
    select customer_id, sum(amount) as total, count(*) as n from paid group by customer_id
),
ranked as (
    select customer_id, total * 1.1 as total_with_tax, n from per_customer
)
select customer_id, total_with_tax, n from ranked
