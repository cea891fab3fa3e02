-- Revenue per calendar month. Returned orders are left out, and so are
-- orders whose amount is not above the project variable min_order_amount.

select
    cast(date_trunc('month', order_date) as date) as order_month,
    count(*) as number_of_orders,
    sum(amount) as revenue

from "main"."orders"
where status <> 'returned'
  and amount > 0
group by 1
order by 1
