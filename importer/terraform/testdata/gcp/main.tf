provider "google" {
  project = "shop-prod"
  region  = "europe-west1"
}

resource "google_sql_database_instance" "orders" {
  name             = "orders"
  database_version = "POSTGRES_15"
  region           = "europe-west1"
  settings {
    tier              = "db-custom-2-7680"
    availability_type = "ZONAL"
    location_preference {
      zone = "europe-west1-b"
    }
  }
}

resource "google_sql_database_instance" "users" {
  name             = "users"
  database_version = "POSTGRES_15"
  region           = "europe-west1"
  settings {
    tier              = "db-custom-2-7680"
    availability_type = "REGIONAL"
  }
}

resource "google_redis_instance" "sessions" {
  name           = "sessions"
  memory_size_gb = 1
  location_id    = "europe-west1-b"
}

resource "google_redis_instance" "cache" {
  name                    = "cache"
  tier                    = "STANDARD_HA"
  memory_size_gb          = 5
  location_id             = "europe-west1-b"
  alternative_location_id = "europe-west1-c"
}

resource "google_storage_bucket" "media" {
  name     = "shop-media"
  location = "EU"
}

resource "google_compute_router_nat" "nat" {
  name   = "nat"
  router = "router"
  region = "europe-west1"
}
