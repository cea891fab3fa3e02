-- reads another model: lineage continues through it
select customer_id, total_with_tax as total from {{ ref('cte_chain') }} where n > 1
