/* placeholder: being written */
typedef int chorus_placeholder_state_t;
