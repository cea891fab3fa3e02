select e.id, e.name, m.name as manager_name
from {{ source('app', 'customers') }} e
left join {{ source('app', 'customers') }} m on m.id = e.manager_id
