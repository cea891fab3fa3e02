select *
from "main"."stg_payments"
where "order_id" is null
