select *
from "main"."monthly_revenue"
where "order_month" is null
