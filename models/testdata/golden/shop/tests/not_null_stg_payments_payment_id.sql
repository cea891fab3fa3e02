select *
from "main"."stg_payments"
where "payment_id" is null
