"""Documents (MongoDB), search indexes (Elasticsearch, OpenSearch), graphs (Cypher) and
shared-store wipes: TL405, TL406, TL408, and the discovery of tenant collections, indexes
and labels for the catalog."""
