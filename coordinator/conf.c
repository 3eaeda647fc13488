/* placeholder: being written */
typedef int chorus_placeholder_conf_t;
