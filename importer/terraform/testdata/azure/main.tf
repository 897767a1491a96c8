provider "azurerm" {
  features {}
}

resource "azurerm_resource_group" "shop" {
  name     = "shop"
  location = "westeurope"
}

resource "azurerm_mssql_database" "orders" {
  name           = "orders"
  server_id      = azurerm_mssql_server.shop.id
  sku_name       = "GP_Gen5_2"
  zone_redundant = false
}

resource "azurerm_mssql_database" "catalog" {
  name           = "catalog"
  server_id      = azurerm_mssql_server.shop.id
  sku_name       = "BC_Gen5_2"
  zone_redundant = true
}

resource "azurerm_mssql_server" "shop" {
  name                = "shop-sql"
  resource_group_name = azurerm_resource_group.shop.name
  location            = azurerm_resource_group.shop.location
  version             = "12.0"
}

resource "azurerm_redis_cache" "sessions" {
  name                = "shop-sessions"
  location            = azurerm_resource_group.shop.location
  resource_group_name = azurerm_resource_group.shop.name
  capacity            = 1
  family              = "P"
  sku_name            = "Premium"
  zones               = ["1", "2", "3"]
}

resource "azurerm_redis_cache" "scratch" {
  name                = "shop-scratch"
  location            = azurerm_resource_group.shop.location
  resource_group_name = azurerm_resource_group.shop.name
  capacity            = 0
  family              = "C"
  sku_name            = "Basic"
}

resource "azurerm_postgresql_flexible_server" "payments" {
  name                = "shop-payments"
  resource_group_name = azurerm_resource_group.shop.name
  location            = azurerm_resource_group.shop.location
  sku_name            = "GP_Standard_D2s_v3"
  zone                = "1"
  high_availability {
    mode                      = "ZoneRedundant"
    standby_availability_zone = "2"
  }
}
