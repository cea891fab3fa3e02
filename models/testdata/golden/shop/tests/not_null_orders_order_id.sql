select *
from "main"."orders"
where "order_id" is null
