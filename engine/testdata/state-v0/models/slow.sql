{{ config(materialized='table') }}
select {{ var('slow', 1) }}::bigint as n
