package terraform

import "strings"

// Resource types that are no component of their own: network plumbing,
// configuration, identity, and managed services that are redundant across
// zones by design (S3, DynamoDB, SQS, SNS, internet gateways, endpoints,
// Lambda, Cloud NAT, ...). They are never single points of failure, so
// they are left out, without a note.
var ignoredTypes = map[string]bool{
	"aws_vpc": true, "aws_internet_gateway": true, "aws_egress_only_internet_gateway": true, "aws_eip": true,
	"aws_eip_association": true, "aws_vpc_endpoint": true, "aws_vpc_endpoint_service": true,
	"aws_vpc_dhcp_options": true, "aws_vpc_dhcp_options_association": true, "aws_main_route_table_association": true,
	"aws_vpc_ipv4_cidr_block_association": true, "aws_vpc_peering_connection": true, "aws_flow_log": true,
	"aws_db_subnet_group": true, "aws_db_parameter_group": true, "aws_db_option_group": true,
	"aws_rds_cluster_parameter_group": true, "aws_db_cluster_snapshot": true, "aws_rds_global_cluster": true,
	"aws_elasticache_subnet_group": true, "aws_elasticache_parameter_group": true, "aws_elasticache_user": true,
	"aws_elasticache_user_group": true, "aws_lb_target_group": true, "aws_lb_listener": true,
	"aws_lb_listener_rule": true, "aws_lb_target_group_attachment": true, "aws_lb_listener_certificate": true,
	"aws_alb_target_group": true, "aws_alb_listener": true, "aws_alb_listener_rule": true,
	"aws_autoscaling_attachment": true, "aws_autoscaling_traffic_source_attachment": true,
	"aws_autoscaling_policy": true, "aws_autoscaling_schedule": true, "aws_autoscaling_lifecycle_hook": true,
	"aws_autoscaling_notification": true, "aws_launch_template": true, "aws_launch_configuration": true,
	"aws_placement_group": true, "aws_ec2_capacity_reservation": true, "aws_key_pair": true, "aws_route53_zone": true, "aws_route53_health_check": true,
	"aws_route53_zone_association": true, "aws_acm_certificate": true, "aws_acm_certificate_validation": true,
	"aws_eks_cluster": true, "aws_eks_addon": true, "aws_eks_fargate_profile": true, "aws_eks_access_entry": true,
	"aws_eks_access_policy_association": true, "aws_eks_identity_provider_config": true,
	"aws_eks_pod_identity_association": true, "aws_ecs_cluster": true, "aws_ecs_task_definition": true,
	"aws_ecs_cluster_capacity_providers": true, "aws_ecs_capacity_provider": true, "aws_ecr_repository": true,
	"aws_ecr_lifecycle_policy": true, "aws_ecr_repository_policy": true, "aws_lambda_function": true,
	"aws_lambda_permission": true, "aws_lambda_alias": true, "aws_lambda_event_source_mapping": true,
	"aws_lambda_layer_version": true, "aws_lambda_function_url": true, "aws_msk_configuration": true,
	"aws_msk_serverless_cluster": true, "aws_mq_configuration": true, "aws_cloudfront_distribution": true,
	"aws_cloudfront_origin_access_identity": true, "aws_cloudfront_origin_access_control": true,
	"aws_wafv2_web_acl": true, "aws_wafv2_web_acl_association": true, "aws_shield_protection": true,
	"aws_efs_file_system": true, "aws_efs_mount_target": true, "aws_efs_access_point": true,
	"aws_efs_backup_policy": true, "aws_ebs_volume": true, "aws_volume_attachment": true,
	"aws_kinesis_stream": true, "aws_kinesis_firehose_delivery_stream": true, "aws_ses_domain_identity": true,
	"aws_api_gateway_rest_api": true, "aws_apigatewayv2_api": true, "aws_apigatewayv2_stage": true,
	"aws_apigatewayv2_integration": true, "aws_apigatewayv2_route": true, "aws_service_discovery_private_dns_namespace": true,
	"aws_service_discovery_service": true, "aws_network_interface": true, "aws_nat_gateway_eip_association": true,
	"aws_customer_gateway": true, "aws_vpn_gateway": true, "aws_vpn_gateway_attachment": true,
	"aws_vpn_gateway_route_propagation": true, "aws_ec2_transit_gateway_vpc_attachment": true,
	"google_compute_network": true, "google_compute_subnetwork": true, "google_compute_firewall": true,
	"google_compute_router": true, "google_compute_router_nat": true, "google_compute_address": true,
	"google_compute_global_address": true, "google_service_networking_connection": true,
	"google_sql_database": true, "google_sql_user": true, "google_container_cluster": true,
	"google_container_node_pool": true, "google_compute_instance_template": true, "google_compute_health_check": true,
	"google_compute_backend_service": true, "google_compute_url_map": true, "google_compute_target_http_proxy": true,
	"google_compute_target_https_proxy": true, "google_compute_global_forwarding_rule": true,
	"google_compute_managed_ssl_certificate": true, "google_cloud_run_service": true, "google_cloud_run_v2_service": true,
	"google_cloudfunctions_function": true, "google_cloudfunctions2_function": true,
	"azurerm_resource_group": true, "azurerm_virtual_network": true, "azurerm_subnet": true,
	"azurerm_network_interface": true, "azurerm_public_ip": true, "azurerm_mssql_server": true, "azurerm_sql_server": true,
	"azurerm_mssql_firewall_rule": true, "azurerm_postgresql_flexible_server_database": true,
	"azurerm_postgresql_flexible_server_firewall_rule": true, "azurerm_postgresql_flexible_server_configuration": true,
	"azurerm_mysql_flexible_database": true, "azurerm_storage_account": true, "azurerm_storage_container": true,
	"azurerm_cosmosdb_account": true, "azurerm_servicebus_namespace": true, "azurerm_servicebus_queue": true,
	"azurerm_servicebus_topic": true, "azurerm_eventhub_namespace": true, "azurerm_eventhub": true,
	"azurerm_log_analytics_workspace": true, "azurerm_application_insights": true, "azurerm_dns_zone": true,
	"azurerm_dns_a_record": true, "azurerm_dns_cname_record": true, "azurerm_private_endpoint": true,
	"azurerm_user_assigned_identity": true, "azurerm_role_assignment": true, "azurerm_kubernetes_cluster": true,
	"azurerm_kubernetes_cluster_node_pool": true, "azurerm_container_registry": true,
	"azurerm_subnet_network_security_group_association": true, "azurerm_network_interface_security_group_association": true,
}

// ignoredPrefixes cover whole families: identity, encryption, logs,
// storage and messaging services, and providers that create nothing that
// serves traffic.
var ignoredPrefixes = []string{
	"aws_iam_", "aws_s3_", "aws_s3control_", "aws_kms_", "aws_cloudwatch_", "aws_sqs_", "aws_sns_", "aws_dynamodb_",
	"aws_ssm_", "aws_secretsmanager_", "aws_security_group", "aws_vpc_security_group_", "aws_network_acl",
	"aws_default_", "aws_cloudtrail", "aws_config_", "aws_guardduty_", "aws_backup_", "aws_glue_", "aws_athena_",
	"aws_sfn_", "aws_scheduler_", "aws_appautoscaling_", "aws_route53_resolver_", "aws_ram_", "aws_organizations_",
	"aws_budgets_", "aws_cognito_", "aws_ce_", "aws_xray_", "aws_prometheus_", "aws_grafana_", "aws_opensearch_",
	"google_project", "google_service_account", "google_storage_", "google_pubsub_", "google_kms_", "google_secret_manager_",
	"google_dns_", "google_logging_", "google_monitoring_", "google_bigquery_", "google_artifact_registry_", "google_iam_",
	"azurerm_network_security_", "azurerm_key_vault", "azurerm_monitor_", "azurerm_private_dns_", "azurerm_role_",
	"random_", "null_", "time_", "tls_", "local_", "archive_", "template_", "terraform_data", "external",
	"cloudinit_", "http",
}

func ignored(typ string) bool {
	if ignoredTypes[typ] {
		return true
	}
	for _, p := range ignoredPrefixes {
		if strings.HasPrefix(typ, p) {
			return true
		}
	}
	return false
}
