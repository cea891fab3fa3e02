select * exclude (tags) replace (amount * 100 as amount)
from {{ source('app', 'orders') }}
