select *
from "main"."orders"
where "amount" is null
