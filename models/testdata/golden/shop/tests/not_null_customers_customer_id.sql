select *
from "main"."customers"
where "customer_id" is null
