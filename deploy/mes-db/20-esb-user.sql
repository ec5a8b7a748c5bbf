-- The gateway's own user in the MES database: it may read the staging table and update
-- its three sync columns, nothing else (see adapters/esb_sql/README.md).
-- 网关专用账号：只能读中间表、只能更新三个同步列。
CREATE USER IF NOT EXISTS 'esb'@'%' IDENTIFIED BY 'esb';
GRANT SELECT, UPDATE (sync_flag, sync_msg, sync_time) ON mes.mes_completion TO 'esb'@'%';
