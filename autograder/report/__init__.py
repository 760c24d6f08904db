"""What people read: results files, feedback pages, the class report and its statistics."""
