/* placeholder: being written */
typedef int chorus_placeholder_cluster_t;
