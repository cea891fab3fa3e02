select *
from "main"."orders"
where "customer_id" is null
